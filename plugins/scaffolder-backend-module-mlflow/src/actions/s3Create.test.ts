import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InputError, NotAllowedError } from '@backstage/errors';
import { mockClient } from 'aws-sdk-client-mock';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createS3CreateAction } from './s3Create';
import { fakeAuthorization, testTenancy } from '../__testUtils__/tenancy';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);

const input = {
  name: 'demo',
  bucket: 'acme-mlflow-demo',
  region: 'eu-west-1',
  artifactPrefix: 'artifacts',
  noncurrentVersionExpirationDays: 30,
  environment: 'dev' as const,
  owner: 'group:default/ml',
};

const MUTATIONS = [
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
];

function mutationCount() {
  return s3
    .calls()
    .filter(call => MUTATIONS.some(command => call.args[0] instanceof command))
    .length;
}

describe('mlflow:s3:create', () => {
  const action = createS3CreateAction({ aws: fakeAws, ...testTenancy() });

  beforeEach(() => {
    s3.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    s3.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
  });

  it('creates a bucket with every secure setting and outputs its artifact root', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);

    expect(s3.commandCalls(CreateBucketCommand)[0].args[0].input).toEqual({
      Bucket: 'acme-mlflow-demo',
      ObjectOwnership: 'BucketOwnerEnforced',
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    });
    expect(
      s3.commandCalls(PutPublicAccessBlockCommand)[0].args[0].input
        .PublicAccessBlockConfiguration,
    ).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(
      s3.commandCalls(PutBucketOwnershipControlsCommand)[0].args[0].input
        .OwnershipControls,
    ).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(
      s3.commandCalls(PutBucketEncryptionCommand)[0].args[0].input
        .ServerSideEncryptionConfiguration,
    ).toEqual({
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
      ],
    });
    expect(
      s3.commandCalls(PutBucketVersioningCommand)[0].args[0].input
        .VersioningConfiguration,
    ).toEqual({ Status: 'Enabled' });
    const policy = JSON.parse(
      s3.commandCalls(PutBucketPolicyCommand)[0].args[0].input.Policy!,
    );
    expect(policy.Statement[0]).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: [
        'arn:aws:s3:::acme-mlflow-demo',
        'arn:aws:s3:::acme-mlflow-demo/*',
      ],
    });
    const lifecycle = s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]
      .args[0].input.LifecycleConfiguration!.Rules![0];
    expect(lifecycle.NoncurrentVersionExpiration).toEqual({
      NoncurrentDays: 30,
    });
    expect(lifecycle.Status).toBe('Enabled');
    const tags = s3.commandCalls(PutBucketTaggingCommand)[0].args[0].input
      .Tagging!.TagSet;
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: 'stateful-mlflow/instance', Value: 'demo' },
        { Key: 'owner', Value: 'group:default/ml' },
      ]),
    );
    expect(outputs).toEqual({
      bucket: 'acme-mlflow-demo',
      arn: 'arn:aws:s3:::acme-mlflow-demo',
      region: 'eu-west-1',
      artifactRoot: 's3://acme-mlflow-demo/artifacts',
    });
  });

  it('names no LocationConstraint in us-east-1', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, region: 'us-east-1' },
    });
    await action.handler(ctx);
    expect(
      s3.commandCalls(CreateBucketCommand)[0].args[0].input
        .CreateBucketConfiguration,
    ).toBeUndefined();
  });

  it('uses SSE-KMS with a bucket key when a KMS key is given', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, kmsKeyId: 'alias/mlflow' },
    });
    await action.handler(ctx);
    expect(
      s3.commandCalls(PutBucketEncryptionCommand)[0].args[0].input
        .ServerSideEncryptionConfiguration!.Rules,
    ).toEqual([
      {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms',
          KMSMasterKeyID: 'alias/mlflow',
        },
        BucketKeyEnabled: true,
      },
    ]);
  });

  it('converges an existing bucket of ours without creating it again', async () => {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [{ Key: 'stateful-mlflow/instance', Value: 'demo' }],
    });
    const { ctx } = createCheckpointingContext(action, { input });
    await action.handler(ctx);
    expect(s3.commandCalls(CreateBucketCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutBucketVersioningCommand)).toHaveLength(1);
  });

  /** An existing untagged bucket, created at `createdAt`, holding `objects` versions. */
  function untaggedBucket(createdAt: Date, objects = 0) {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).rejects(awsError('NoSuchTagSet', 404));
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'other', CreationDate: new Date() },
        { Name: input.bucket, CreationDate: createdAt },
      ],
    });
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: Array.from({ length: objects }, (_, i) => ({ Key: `k${i}` })),
    });
  }

  it('refuses to adopt an existing bucket without our tag', async () => {
    untaggedBucket(new Date(Date.now() - 3_600_000));
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /already exists in this account and was not created for MLflow instance "demo"/,
    );
    expect(mutationCount()).toBe(0);
  });

  it('refuses a bucket tagged for another instance without looking further', async () => {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [{ Key: 'stateful-mlflow/instance', Value: 'other' }],
    });
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(/not created for/);
    expect(mutationCount()).toBe(0);
  });

  it('adopts on recovery the empty untagged bucket this task created, and tags it first', async () => {
    const intentAt = new Date(Date.now() - 600_000);
    const store = new Map([
      [
        `mlflow:s3:${input.bucket}:intent`,
        { absentAt: intentAt.toISOString() },
      ],
    ]);
    untaggedBucket(new Date(intentAt.getTime() + 1_000));
    const { ctx, executed } = createCheckpointingContext(action, {
      input,
      store,
    });
    await action.handler(ctx);
    expect(s3.commandCalls(CreateBucketCommand)).toHaveLength(0);
    expect(executed[0]).toBe(`mlflow:s3:${input.bucket}:tags`);
    expect(s3.commandCalls(PutBucketTaggingCommand)).toHaveLength(1);
  });

  it.each([
    ['created before the task saw the name free', -600_000, 0],
    ['created long after the task saw the name free', 600_000, 0],
    ['holding objects', 1_000, 1],
  ])(
    'never adopts an untagged bucket %s',
    async (_case, createdAfterIntentMs, objects) => {
      const intentAt = new Date(Date.now() - 60_000);
      const store = new Map([
        [
          `mlflow:s3:${input.bucket}:intent`,
          { absentAt: intentAt.toISOString() },
        ],
      ]);
      untaggedBucket(
        new Date(intentAt.getTime() + createdAfterIntentMs),
        objects,
      );
      const { ctx } = createCheckpointingContext(action, { input, store });
      await expect(action.handler(ctx)).rejects.toThrow(/not created for/);
      expect(mutationCount()).toBe(0);
    },
  );

  it('refuses a rerun on a bucket recording another owner, naming it, also in dry-run, and changes nothing', async () => {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [
        { Key: 'stateful-mlflow/instance', Value: 'demo' },
        { Key: 'owner', Value: 'group:default/guests' },
      ],
    });
    const guarded = createS3CreateAction({
      aws: fakeAws,
      authorization: fakeAuthorization(),
    });
    for (const isDryRun of [false, true]) {
      const { ctx } = createCheckpointingContext(guarded, {
        input: { ...input, owner: 'group:default/intruders' },
        isDryRun,
      });
      await expect(guarded.handler(ctx)).rejects.toThrow(
        'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/guests (nor transfer it to group:default/intruders): user:default/mock is not a member of group:default/guests',
      );
    }
    expect(mutationCount()).toBe(0);
  });

  it('lets a member of the recorded owner transfer the bucket, retagging it', async () => {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [
        { Key: 'stateful-mlflow/instance', Value: 'demo' },
        { Key: 'owner', Value: 'group:default/guests' },
      ],
    });
    const guarded = createS3CreateAction({
      aws: fakeAws,
      authorization: fakeAuthorization({
        ownership: { 'user:default/mock': ['group:default/guests'] },
      }),
    });
    const { ctx } = createCheckpointingContext(guarded, {
      input: { ...input, owner: 'team-b' },
    });
    await guarded.handler(ctx);
    expect(
      s3.commandCalls(PutBucketTaggingCommand)[0].args[0].input.Tagging?.TagSet,
    ).toContainEqual({ Key: 'owner', Value: 'group:default/team-b' });
  });

  it('says the name is taken when another account owns the bucket', async () => {
    s3.on(HeadBucketCommand).rejects(awsError('Forbidden', 403));
    const { ctx } = createCheckpointingContext(action, { input });
    const error = await action.handler(ctx).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /taken by another AWS account.*choose another name/,
    );
    expect(mutationCount()).toBe(0);
  });

  it.each([
    [
      'bucket',
      'Bad_Bucket',
      /Invalid bucket \(S3 bucket name\): received "Bad_Bucket"/,
    ],
    ['bucket', '192.168.1.1', /IP address/],
    ['bucket', 'xn--mlflow', /prefix xn-- is reserved/],
    ['region', 'europe', /Invalid region/],
    ['artifactPrefix', '/abs/path', /Invalid artifactPrefix/],
    ['name', 'Demo;DROP', /Invalid name/],
  ])('rejects %s %j before any AWS call', async (field, value, message) => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, [field]: value },
    });
    await expect(action.handler(ctx)).rejects.toThrow(message);
    expect(s3.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  it('only reads and plans during a dry-run, with the same outputs', async () => {
    const { ctx, outputs, logs } = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    await action.handler(ctx);
    expect(mutationCount()).toBe(0);
    expect(s3.commandCalls(HeadBucketCommand)).toHaveLength(1);
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Plan for bucket acme-mlflow-demo/,
    );
    expect(outputs.artifactRoot).toBe('s3://acme-mlflow-demo/artifacts');
  });

  it('replays finished checkpoints on task recovery instead of repeating them', async () => {
    const first = createCheckpointingContext(action, { input });
    await action.handler(first.ctx);
    const callsAfterFirst = mutationCount();
    const second = createCheckpointingContext(action, {
      input,
      store: first.store,
    });
    await action.handler(second.ctx);
    expect(second.executed).toEqual([]);
    expect(mutationCount()).toBe(callsAfterFirst);
    expect(s3.commandCalls(CreateBucketCommand)).toHaveLength(1);
  });

  it('names the missing permission when AWS denies a call', async () => {
    s3.on(PutBucketPolicyCommand).rejects(awsError('AccessDenied', 403));
    const { ctx } = createCheckpointingContext(action, { input });
    const error = await action.handler(ctx).catch(e => e);
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.message).toMatch(/needs the s3:PutBucketPolicy permission/);
  });
});
