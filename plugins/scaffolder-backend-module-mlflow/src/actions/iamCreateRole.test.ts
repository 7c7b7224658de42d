import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createIamCreateRoleAction } from './iamCreateRole';
import {
  fakeAuthorization,
  testGuardRails,
  testTenancy,
} from '../__testUtils__/tenancy';

const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);

const OIDC =
  'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123';
const input = {
  name: 'demo',
  region: 'eu-west-1',
  bucket: 'acme-mlflow-demo',
  oidcProviderArn: OIDC,
};

describe('mlflow:iam:createRole', () => {
  const action = createIamCreateRoleAction({ aws: fakeAws, ...testTenancy() });

  beforeEach(() => {
    iam.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 404));
  });

  it('trusts only the ServiceAccount through the OIDC provider and limits access to the prefix', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);

    const create = iam.commandCalls(CreateRoleCommand)[0].args[0].input;
    expect(create.RoleName).toBe('mlflow-demo');
    expect(JSON.parse(create.AssumeRolePolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: OIDC },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub':
                'system:serviceaccount:mlflow-demo:mlflow',
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud':
                'sts.amazonaws.com',
            },
          },
        },
      ],
    });
    const put = iam.commandCalls(PutRolePolicyCommand)[0].args[0].input;
    const statements = JSON.parse(put.PolicyDocument!).Statement;
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-mlflow-demo',
        Condition: {
          StringLike: { 's3:prefix': ['artifacts', 'artifacts/*'] },
        },
      }),
      expect.objectContaining({
        Action: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
        ],
        Resource: 'arn:aws:s3:::acme-mlflow-demo/artifacts/*',
      }),
    ]);
    expect(outputs).toEqual({
      roleArn: 'arn:aws:iam::123456789012:role/mlflow-demo',
      roleName: 'mlflow-demo',
    });
  });

  it('trusts EKS Pod Identity for the ServiceAccount and allows the KMS key when asked', async () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234';
    const { ctx } = createCheckpointingContext(action, {
      input: {
        ...input,
        oidcProviderArn: undefined,
        trustType: 'podIdentity',
        kmsKeyArn,
        namespace: 'ml',
        serviceAccountName: 'tracking',
      },
    });
    await action.handler(ctx);
    const trust = JSON.parse(
      iam.commandCalls(CreateRoleCommand)[0].args[0].input
        .AssumeRolePolicyDocument!,
    );
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:RequestTag/kubernetes-namespace': 'ml',
          'aws:RequestTag/kubernetes-service-account': 'tracking',
        },
      },
    });
    const policy = JSON.parse(
      iam.commandCalls(PutRolePolicyCommand)[0].args[0].input.PolicyDocument!,
    );
    expect(policy.Statement[2]).toEqual({
      Sid: 'UseArtifactKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: kmsKeyArn,
      Condition: {
        StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
        StringLike: {
          'kms:EncryptionContext:aws:s3:arn': [
            'arn:aws:s3:::acme-mlflow-demo',
            'arn:aws:s3:::acme-mlflow-demo/artifacts/*',
          ],
        },
      },
    });
  });

  it('converges a role of ours and refuses one that is not', async () => {
    iam.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'mlflow-demo',
        Arn: 'arn:aws:iam::123456789012:role/mlflow-demo',
        Path: '/',
        RoleId: 'R',
        CreateDate: new Date(),
        Tags: [{ Key: 'stateful-mlflow/instance', Value: 'demo' }],
      },
    });
    const ours = createCheckpointingContext(action, { input });
    await action.handler(ours.ctx);
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
    expect(iam.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(1);
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);

    iam.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'mlflow-demo',
        Arn: 'arn:aws:iam::123456789012:role/mlflow-demo',
        Path: '/',
        RoleId: 'R',
        CreateDate: new Date(),
        Tags: [],
      },
    });
    const theirs = createCheckpointingContext(action, { input });
    await expect(action.handler(theirs.ctx)).rejects.toThrow(
      /already exists and was not created for MLflow instance "demo"/,
    );
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
  });

  it.each([
    ['oidcProviderArn', undefined, /Missing oidcProviderArn/],
    ['oidcProviderArn', 'arn:aws:iam::1:role/x', /Invalid oidcProviderArn/],
    ['roleName', 'bad role name', /Invalid roleName \(IAM role name\)/],
    ['namespace', 'kube-system', /prefix kube- is reserved/],
    ['bucket', 'UPPER', /Invalid bucket/],
    ['artifactPrefix', 'a/../b', /Invalid artifactPrefix/],
    ['kmsKeyArn', 'alias/mine', /Invalid kmsKeyArn/],
  ])('rejects %s %j before any AWS call', async (field, value, message) => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, [field]: value },
    });
    await expect(action.handler(ctx)).rejects.toThrow(message);
    expect(iam.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  it.each([
    [
      'a key the operator does not allow',
      'arn:aws:kms:eu-west-1:210987654321:key/victim-key',
      'Invalid kmsKeyArn: received "arn:aws:kms:eu-west-1:210987654321:key/victim-key", but the operator allows the server\'s role only the KMS keys arn:aws:kms:eu-west-1:123456789012:key/abcd-1234, arn:aws:kms:us-east-1:123456789012:key/abcd-1234 (mlflow.provisioning.allowedKmsKeyArns).',
    ],
    [
      "an allowed key of another region than the bucket's",
      'arn:aws:kms:us-east-1:123456789012:key/abcd-1234',
      /a key in us-east-1, but the instance's bucket is in eu-west-1/,
    ],
  ])(
    'refuses %s before any AWS call, also in dry-run',
    async (_case, kmsKeyArn, message) => {
      const guarded = createIamCreateRoleAction({
        aws: fakeAws,
        ...testTenancy(),
        guardRails: testGuardRails({
          allowedKmsKeyArns: [
            'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234',
            'arn:aws:kms:us-east-1:123456789012:key/abcd-1234',
          ],
        }),
      });
      for (const isDryRun of [false, true]) {
        const { ctx } = createCheckpointingContext(guarded, {
          input: { ...input, kmsKeyArn },
          isDryRun,
        });
        await expect(guarded.handler(ctx)).rejects.toThrow(message);
      }
      expect(iam.calls()).toHaveLength(0);
      expect(sts.calls()).toHaveLength(0);
    },
  );

  it('refuses a rerun on a role recording another owner, naming it, and changes nothing', async () => {
    iam.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'mlflow-demo',
        Arn: 'arn:aws:iam::123456789012:role/mlflow-demo',
        Path: '/',
        RoleId: 'AROA',
        CreateDate: new Date(),
        Tags: [
          { Key: 'stateful-mlflow/instance', Value: 'demo' },
          { Key: 'owner', Value: 'group:default/guests' },
        ],
      },
    });
    const guarded = createIamCreateRoleAction({
      aws: fakeAws,
      ...testTenancy(),
      authorization: fakeAuthorization(),
    });
    for (const isDryRun of [false, true]) {
      const { ctx } = createCheckpointingContext(guarded, {
        input: { ...input, owner: 'user:default/mock' },
        isDryRun,
      });
      await expect(guarded.handler(ctx)).rejects.toThrow(
        'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/guests (nor transfer it to user:default/mock): user:default/mock is not a member of group:default/guests',
      );
    }
    expect(iam.calls().map(c => c.args[0].constructor.name)).toEqual([
      'GetRoleCommand',
      'GetRoleCommand',
    ]);
  });

  it('only reads during a dry-run', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    await action.handler(ctx);
    expect(iam.calls().map(c => c.args[0].constructor.name)).toEqual([
      'GetRoleCommand',
    ]);
    expect(outputs.roleArn).toBe('arn:aws:iam::123456789012:role/mlflow-demo');
  });

  it('replays on recovery without creating the role twice', async () => {
    const first = createCheckpointingContext(action, { input });
    await action.handler(first.ctx);
    const second = createCheckpointingContext(action, {
      input,
      store: first.store,
    });
    await action.handler(second.ctx);
    expect(second.executed).toEqual([]);
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(1);
  });
});
