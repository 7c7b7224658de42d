import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { MOCK_USER, testTenancy } from '../__testUtils__/tenancy';
import { createS3RetireAction } from './s3Retire';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const input = { name: 'demo', region: 'eu-west-1' };
const identity = [
  { Key: 'stateful-mlflow/instance', Value: 'demo' },
  { Key: 'owner', Value: MOCK_USER },
];

function bucket(tags: Array<{ Key: string; Value: string }>) {
  let current = tags;
  s3.on(HeadBucketCommand).resolves({});
  s3.on(GetBucketTaggingCommand).callsFake(async () => ({ TagSet: current }));
  s3.on(PutBucketTaggingCommand).callsFake(async command => {
    current = command.Tagging.TagSet;
    return {};
  });
  return () => current;
}

describe('mlflow:s3:retire', () => {
  const action = createS3RetireAction({ aws: fakeAws, ...testTenancy() });
  beforeEach(() => {
    s3.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  });

  it('keeps the bucket by default, tagged as retained until the retention date, and changes nothing on a rerun', async () => {
    const tags = bucket(identity);
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    const until = new Date(Date.now() + 90 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    expect(tags()).toEqual([
      ...identity,
      {
        Key: 'stateful-mlflow/retained',
        Value: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      },
      { Key: 'stateful-mlflow/retained-until', Value: until },
    ]);
    expect(run.outputs).toEqual({
      bucket: 'mlflow-demo-artifacts',
      retained: true,
      retainedUntil: until,
    });
    expect(s3.commandCalls(DeleteBucketCommand)).toEqual([]);

    const again = createCheckpointingContext(action, { input });
    await action.handler(again.ctx);
    expect(s3.commandCalls(PutBucketTaggingCommand)).toHaveLength(1);
    expect(again.outputs.retainedUntil).toBe(until);
  });

  it('empties every version and delete marker, then deletes the bucket, only when asked', async () => {
    bucket(identity);
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({
        Versions: [{ Key: 'artifacts/1/model.pkl', VersionId: 'v1' }],
        DeleteMarkers: [{ Key: 'artifacts/1/old.txt', VersionId: 'd1' }],
      })
      .resolves({});
    s3.on(DeleteObjectsCommand).resolves({});
    s3.on(DeleteBucketCommand).resolves({});
    const run = createCheckpointingContext(action, {
      input: { ...input, deleteBucket: true },
    });
    await action.handler(run.ctx);
    expect(
      s3.commandCalls(DeleteObjectsCommand)[0].args[0].input.Delete?.Objects,
    ).toEqual([
      { Key: 'artifacts/1/model.pkl', VersionId: 'v1' },
      { Key: 'artifacts/1/old.txt', VersionId: 'd1' },
    ]);
    expect(s3.commandCalls(DeleteBucketCommand)).toHaveLength(1);
    expect(run.outputs).toEqual({
      bucket: 'mlflow-demo-artifacts',
      retained: false,
    });
  });

  it('refuses a bucket not created for the instance, changing nothing', async () => {
    bucket([{ Key: 'team', Value: 'other' }]);
    const run = createCheckpointingContext(action, {
      input: { ...input, deleteBucket: true },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /Invalid bucket: received "mlflow-demo-artifacts", but that bucket was not created for MLflow instance "demo"/,
    );
    expect(s3.commandCalls(DeleteObjectsCommand)).toEqual([]);
    expect(s3.commandCalls(PutBucketTaggingCommand)).toEqual([]);
  });

  it('reports a gone bucket without a change', async () => {
    s3.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    expect(run.outputs).toEqual({
      bucket: 'mlflow-demo-artifacts',
      retained: false,
    });
  });

  it('plans in dry-run without a change', async () => {
    bucket(identity);
    const run = createCheckpointingContext(action, { input, isDryRun: true });
    await action.handler(run.ctx);
    expect(s3.commandCalls(PutBucketTaggingCommand)).toEqual([]);
    expect(run.logs.map(l => l.message).join('\n')).toMatch(
      /Plan for bucket mlflow-demo-artifacts: keep it and its artifacts, tagged as retained until \d{4}-\d{2}-\d{2} \(90 days\)/,
    );
  });
});
