import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { V1Namespace } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { FakeSqlClient } from '../__testUtils__/FakeSqlClient';
import {
  fakeAuthorization,
  MOCK_USER,
  testGuardRails,
} from '../__testUtils__/tenancy';
import { createDatabaseCreateAction } from '../actionFactories';

const rds = mockClient(RDSClient);
const secrets = mockClient(SecretsManagerClient);

const MASTER_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-abc';
const tagsOf = (name: string, owner: string) => [
  { Key: 'stateful-mlflow/instance', Value: name },
  { Key: 'owner', Value: owner },
];
const instanceOf = (name: string, owner: string) => ({
  DBInstanceIdentifier: `mlflow-${name}`,
  DBInstanceStatus: 'available',
  Endpoint: { Address: `mlflow-${name}.example`, Port: 5432 },
  MasterUserSecret: { SecretArn: MASTER_SECRET_ARN },
  TagList: tagsOf(name, owner),
});
const input = {
  name: 'demo',
  region: 'eu-west-1',
  cluster: 'local',
  owner: 'group:default/ml',
};

describe('mlflow:database:create tenancy', () => {
  let cluster: FakeKubernetesApi;
  let sql: FakeSqlClient;
  let connects: number;

  const makeAction = (memberships: string[]) =>
    createDatabaseCreateAction({
      aws: fakeAws,
      kubernetes: () => cluster,
      authorization: fakeAuthorization({
        ownership: { [MOCK_USER]: memberships },
      }),
      guardRails: testGuardRails({ allowedNamespaces: ['mlflow-*'] }),
      connect: async () => {
        connects++;
        return sql;
      },
      pollIntervalMs: 1,
    });

  /** Nothing read as master, nothing written to the cluster or to Secrets Manager. */
  const expectNothingTouched = () => {
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(connects).toBe(0);
    expect(cluster.applied).toHaveLength(0);
    expect(sql.statements).toHaveLength(0);
  };

  beforeEach(() => {
    rds.reset();
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ username: 'admin', password: 'pw' }),
    });
    cluster = new FakeKubernetesApi();
    sql = new FakeSqlClient();
    connects = 0;
  });

  it.each([false, true])(
    "refuses another MLflow instance's RDS instance before reading its master secret (dry-run %s)",
    async isDryRun => {
      rds
        .on(DescribeDBInstancesCommand)
        .resolves({ DBInstances: [instanceOf('victim', 'group:default/b')] });
      const action = makeAction([MOCK_USER, 'group:default/ml']);
      const { ctx } = createCheckpointingContext(action, {
        input: { ...input, instanceId: 'mlflow-victim' },
        isDryRun,
      });
      await expect(action.handler(ctx)).rejects.toThrow(
        'Invalid instanceId: received "mlflow-victim", but that RDS instance was not created for MLflow instance "demo" (it lacks the tag stateful-mlflow/instance=demo)',
      );
      expectNothingTouched();
    },
  );

  it.each([false, true])(
    "refuses a master secret that is not the instance's own managed one (dry-run %s)",
    async isDryRun => {
      rds
        .on(DescribeDBInstancesCommand)
        .resolves({ DBInstances: [instanceOf('demo', 'group:default/ml')] });
      const other =
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-victim';
      const action = makeAction([MOCK_USER, 'group:default/ml']);
      const { ctx } = createCheckpointingContext(action, {
        input: { ...input, masterSecretArn: other },
        isDryRun,
      });
      await expect(action.handler(ctx)).rejects.toThrow(
        `Invalid masterSecretArn: received "${other}", but that is not the managed master secret of RDS instance mlflow-demo (${MASTER_SECRET_ARN})`,
      );
      expectNothingTouched();
    },
  );

  it.each([false, true])(
    'refuses an initiator who is not a member of the owner recorded on the RDS instance, naming it (dry-run %s)',
    async isDryRun => {
      rds
        .on(DescribeDBInstancesCommand)
        .resolves({ DBInstances: [instanceOf('demo', 'group:default/ml')] });
      const action = makeAction([MOCK_USER]);
      const { ctx } = createCheckpointingContext(action, {
        input: { ...input, owner: 'group:default/intruders' },
        isDryRun,
      });
      await expect(action.handler(ctx)).rejects.toThrow(
        'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/ml (nor transfer it to group:default/intruders)',
      );
      expectNothingTouched();
    },
  );

  it('refuses a namespace the guard rails do not allow before anything is read as master', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [instanceOf('demo', 'group:default/ml')] });
    const action = makeAction([MOCK_USER, 'group:default/ml']);
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, namespace: 'team-b' },
    });
    await expect(action.handler(ctx)).rejects.toThrow(
      /Invalid namespace: received "team-b", but the operator allows only namespaces matching/,
    );
    expectNothingTouched();
  });

  it('lets a member of the recorded owner run it and records that owner on the namespace it creates', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [instanceOf('demo', 'group:default/ml')] });
    const action = makeAction([MOCK_USER, 'group:default/ml']);
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, owner: undefined },
    });
    await action.handler(ctx);
    const namespace = cluster.objects.get(
      'Namespace//mlflow-demo',
    ) as V1Namespace;
    expect(namespace.metadata?.annotations).toEqual({
      'mlflow.org/owner': 'group:default/ml',
    });
  });
});
