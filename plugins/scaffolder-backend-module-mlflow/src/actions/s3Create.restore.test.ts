import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { fakeAuthorization } from '../__testUtils__/tenancy';
import { createS3CreateAction } from './s3Create';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);

const OLD_BUCKET = 'mlflow-old-artifacts';
const GUESTS = 'group:default/guests';
const retainedTags = (instance: string, owner = GUESTS) => [
  { Key: 'Name', Value: instance },
  { Key: 'stateful-mlflow/instance', Value: instance },
  { Key: 'managed-by', Value: 'backstage-stateful-mlflow' },
  { Key: 'owner', Value: owner },
  { Key: 'stateful-mlflow/retained', Value: '2026-12-02' },
  { Key: 'stateful-mlflow/retained-until', Value: '2027-03-02' },
];

const input = {
  name: 'new',
  bucket: OLD_BUCKET,
  retainedBucket: OLD_BUCKET,
  retainedFromInstance: 'old',
  region: 'eu-west-1',
  environment: 'dev' as const,
  owner: GUESTS,
};

/** The mock user belongs to the guests, the owner the retained bucket records. */
const guestsMember = fakeAuthorization({
  ownership: { 'user:default/mock': [GUESTS, 'user:default/mock'] },
});

function bucketExists(tags: Array<{ Key: string; Value: string }>) {
  s3.on(HeadBucketCommand).resolves({});
  s3.on(GetBucketTaggingCommand).resolves({ TagSet: tags });
}

describe('mlflow:s3:create adopting a retained bucket (restore)', () => {
  beforeEach(() => {
    s3.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  });

  it("adopts the bucket retained from the snapshot's instance under the new name: its tags rewritten, the retained tags removed", async () => {
    bucketExists(retainedTags('old'));
    const action = createS3CreateAction({
      aws: fakeAws,
      authorization: guestsMember,
    });
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    expect(s3.commandCalls(CreateBucketCommand)).toEqual([]);
    const tagSet = s3.commandCalls(PutBucketTaggingCommand)[0].args[0].input
      .Tagging?.TagSet;
    expect(tagSet).toEqual(
      expect.arrayContaining([
        { Key: 'stateful-mlflow/instance', Value: 'new' },
        { Key: 'owner', Value: GUESTS },
      ]),
    );
    expect(tagSet?.map(t => t.Key)).not.toContain('stateful-mlflow/retained');
    expect(tagSet?.map(t => t.Key)).not.toContain(
      'stateful-mlflow/retained-until',
    );
    expect(run.logs.map(l => l.message).join('\n')).toContain(
      `Plan for bucket ${OLD_BUCKET} in eu-west-1: it was retained from MLflow instance old until 2027-03-02; adopt it with its artifacts`,
    );
    expect(run.outputs).toMatchObject({
      bucket: OLD_BUCKET,
      artifactRoot: `s3://${OLD_BUCKET}/artifacts`,
    });
  });

  it('adopts its own retained bucket under the same name without retainedBucket, removing the retained tags', async () => {
    bucketExists(retainedTags('old'));
    const action = createS3CreateAction({
      aws: fakeAws,
      authorization: guestsMember,
    });
    const run = createCheckpointingContext(action, {
      input: { name: 'old', bucket: OLD_BUCKET, region: 'eu-west-1' },
    });
    await action.handler(run.ctx);
    const keys = s3
      .commandCalls(PutBucketTaggingCommand)[0]
      .args[0].input.Tagging?.TagSet?.map(t => t.Key);
    expect(keys).toContain('stateful-mlflow/instance');
    expect(keys).not.toContain('stateful-mlflow/retained');
    expect(run.logs.map(l => l.message).join('\n')).toContain(
      "it is this instance's, retained by a decommission until 2027-03-02; adopt it with its artifacts (the retained tags removed)",
    );
  });

  it.each([
    [
      'a live instance (not retained)',
      retainedTags('old').slice(0, 4),
      'it is the bucket of MLflow instance "old", which is not retained',
    ],
    [
      'another instance than the snapshot',
      retainedTags('other'),
      'it was retained from MLflow instance "other", while the database is restored from a snapshot of "old"',
    ],
    [
      'no MLflow instance',
      [{ Key: 'team', Value: 'x' }],
      'it does not carry the tag stateful-mlflow/instance',
    ],
  ])(
    'refuses a bucket of %s before any change, naming retainedBucket',
    async (_what, tags, why) => {
      bucketExists(tags);
      const action = createS3CreateAction({
        aws: fakeAws,
        authorization: guestsMember,
      });
      for (const isDryRun of [false, true]) {
        const run = createCheckpointingContext(action, { input, isDryRun });
        await expect(action.handler(run.ctx)).rejects.toThrow(
          `Invalid retainedBucket: received "${OLD_BUCKET}", but ${why}`,
        );
      }
      expect(s3.commandCalls(PutBucketTaggingCommand)).toEqual([]);
    },
  );

  it('refuses an absent bucket, and a retainedBucket other than bucket', async () => {
    s3.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
    const action = createS3CreateAction({
      aws: fakeAws,
      authorization: guestsMember,
    });
    let run = createCheckpointingContext(action, { input });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      'there is no such bucket in this account',
    );
    run = createCheckpointingContext(action, {
      input: { ...input, bucket: 'mlflow-new-artifacts' },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      `Invalid retainedBucket: received "${OLD_BUCKET}", but bucket is "mlflow-new-artifacts"`,
    );
    expect(s3.commandCalls(CreateBucketCommand)).toEqual([]);
  });

  it("refuses someone the retained bucket's recorded owner does not allow (confused deputy), before any change", async () => {
    bucketExists(retainedTags('old'));
    const action = createS3CreateAction({
      aws: fakeAws,
      authorization: fakeAuthorization(),
    });
    const run = createCheckpointingContext(action, {
      input: { ...input, owner: 'user:default/mock' },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      `user:default/mock may not change MLflow instance "new" (component:default/new), owned by ${GUESTS} (nor transfer it to user:default/mock): user:default/mock is not a member of ${GUESTS}`,
    );
    expect(s3.commandCalls(PutBucketTaggingCommand)).toEqual([]);
  });
});
