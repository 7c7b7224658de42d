import { ClientConfig } from 'pg';
import { fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  databaseCreateAction,
  input,
  MASTER_PASSWORD,
  mockAvailableInstance,
  rds,
} from '../__testUtils__/databaseCreateFixtures';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { FakeSqlClient } from '../__testUtils__/FakeSqlClient';
import { testTenancy } from '../__testUtils__/tenancy';
import { createDatabaseCreateAction } from '../actionFactories';

describe('mlflow:database:create', () => {
  let cluster: FakeKubernetesApi;
  let sql: FakeSqlClient;
  let connections: ClientConfig[];

  function makeAction(
    extra: Partial<Parameters<typeof createDatabaseCreateAction>[0]> = {},
  ) {
    return databaseCreateAction({ cluster, sql, connections }, extra);
  }

  beforeEach(() => {
    mockAvailableInstance();
    cluster = new FakeKubernetesApi();
    sql = new FakeSqlClient();
    connections = [];
  });

  it('refuses a database or role that exists but is not ours, before writing the Secret', async () => {
    sql.databases.set('mlflow_demo', { owner: 'someone' });
    const action = makeAction();
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /a database with that name already exists and was not created for MLflow instance "demo"/,
    );
    expect(
      sql.statements.some(s => s.startsWith('CREATE') || s.startsWith('ALTER')),
    ).toBe(false);
  });

  it.each([
    ['databaseName', 'mlflow; DROP DATABASE postgres', /Invalid databaseName/],
    ['databaseName', 'pg_mlflow', /prefixes pg_ and rds_ are reserved/],
    ['username', 'Robert"); DROP ROLE x; --', /Invalid username/],
    ['username', 'public', /"public" is reserved/],
    ['instanceId', 'bad--id', /Invalid instanceId/],
    ['secretName', 'Bad_Name', /Invalid secretName/],
    ['namespace', 'kube-system', /Invalid namespace/],
    ['masterSecretArn', 'not-an-arn', /Invalid masterSecretArn/],
  ])('rejects %s %j before any call', async (field, value, message) => {
    const action = makeAction();
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, [field]: value },
    });
    await expect(action.handler(ctx)).rejects.toThrow(message);
    expect(rds.calls()).toHaveLength(0);
    expect(sql.statements).toHaveLength(0);
    expect(cluster.applied).toHaveLength(0);
  });

  it('explains an unreachable database without leaking credentials', async () => {
    const action = createDatabaseCreateAction({
      aws: fakeAws,
      kubernetes: () => cluster,
      ...testTenancy(),
      connect: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), {
          code: 'ECONNREFUSED',
        });
      },
    });
    const { ctx } = createCheckpointingContext(action, { input });
    const error = await action.handler(ctx).catch(e => e);
    expect(error.message).toMatch(
      /Cannot reach PostgreSQL at mlflow-demo.abc.eu-west-1.rds.amazonaws.com:5432.*security group/,
    );
    expect(error.message).not.toContain(MASTER_PASSWORD);
  });

  it('refuses a Secret of the same name that is not ours', async () => {
    cluster.objects.set('Secret/mlflow-demo/demo-db', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'demo-db', namespace: 'mlflow-demo' },
    });
    const action = makeAction();
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /is not managed by Backstage's MLflow actions/,
    );
    expect(sql.statements).toHaveLength(0);
  });
});
