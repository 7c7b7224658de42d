import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetBucketTaggingCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockCredentials } from '@backstage/backend-test-utils';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  fakeAuthorization,
  instanceLabels,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';
import { createInstanceDecommissionPlanAction } from './instanceDecommissionPlan';

const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const iam = mockClient(IAMClient);
const secrets = mockClient(SecretsManagerClient);

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
]);
const tags = [
  { Key: 'stateful-mlflow/instance', Value: 'demo' },
  { Key: 'owner', Value: MOCK_USER },
];
const input = {
  name: 'demo',
  confirmName: 'demo',
  region: 'eu-west-1',
  cluster: 'local',
};

async function setup(
  options: {
    deletionProtection?: boolean;
    authorization?: ReturnType<typeof fakeAuthorization>;
  } = {},
) {
  for (const client of [sts, rds, s3, iam, secrets]) client.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'mlflow-demo',
        DBInstanceStatus: 'available',
        DeletionProtection: options.deletionProtection ?? false,
        TagList: tags,
      },
    ],
  });
  s3.on(HeadBucketCommand).resolves({});
  s3.on(GetBucketTaggingCommand).resolves({ TagSet: tags });
  iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 404));
  secrets
    .on(DescribeSecretCommand)
    .rejects(awsError('ResourceNotFoundException', 400));
  const api = new FakeKubernetesApi();
  await api.apply(
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'mlflow-demo', labels: instanceLabels('demo') },
    },
    { dryRun: false },
  );
  await api.apply(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'demo',
        namespace: 'mlflow-demo',
        labels: instanceLabels('demo'),
      },
    },
    { dryRun: false },
  );
  const action = createInstanceDecommissionPlanAction({
    aws: fakeAws,
    clusters,
    kubernetes: () => api,
    authorization: options.authorization ?? testTenancy().authorization,
  });
  return action;
}

describe('mlflow:instance:planDecommission', () => {
  it('refuses a confirmation that is not the name before reading anything', async () => {
    const action = await setup();
    const run = createCheckpointingContext(action, {
      input: { ...input, confirmName: 'dem' },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /Invalid confirmName: received "dem", but it must be the instance's name "demo" typed exactly/,
    );
    expect(sts.calls()).toEqual([]);
    expect(rds.calls()).toEqual([]);
  });

  it('logs the whole deletion plan and outputs the names', async () => {
    const action = await setup();
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    const plan = run.logs
      .map(l => l.message)
      .find(m => m.startsWith('Decommission plan'));
    expect(plan).toContain(
      'Kubernetes (local): delete Deployment mlflow-demo/demo, namespace mlflow-demo',
    );
    expect(plan).toContain('catalog: remove component:default/demo');
    expect(plan).toMatch(
      /RDS: take a final snapshot mlflow-demo-final-<UTC time>, delete instance mlflow-demo/,
    );
    expect(plan).toMatch(
      /S3: keep bucket mlflow-demo-artifacts with its artifacts, tagged as retained until \d{4}-\d{2}-\d{2}/,
    );
    expect(run.outputs).toMatchObject({
      rdsInstanceId: 'mlflow-demo',
      bucket: 'mlflow-demo-artifacts',
      namespace: 'mlflow-demo',
      entityRef: 'component:default/demo',
      owner: MOCK_USER,
    });
  });

  it('refuses deletion protection that the form did not lift', async () => {
    const action = await setup({ deletionProtection: true });
    const run = createCheckpointingContext(action, { input });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /Invalid liftDeletionProtection: received false, but RDS instance mlflow-demo has deletion protection on/,
    );
    const lifted = createCheckpointingContext(action, {
      input: { ...input, liftDeletionProtection: true },
    });
    await action.handler(lifted.ctx);
    expect(lifted.logs.map(l => l.message).join('\n')).toContain(
      'lift deletion protection (asked for)',
    );
  });

  it('refuses a non-owner, naming the owner', async () => {
    const action = await setup({ authorization: fakeAuthorization() });
    const run = createCheckpointingContext(action, { input });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /user:default\/mallory may not decommission MLflow instance "demo" .*owned by user:default\/mock/,
    );
  });
});
