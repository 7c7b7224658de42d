import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { V1Secret } from '@kubernetes/client-node';
import { ClientConfig } from 'pg';
import { awsError } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  databaseCreateAction,
  input,
  instance,
  MASTER_PASSWORD,
  mockAvailableInstance,
  rds,
  secrets,
  secretValues,
} from '../__testUtils__/databaseCreateFixtures';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { FakeSqlClient } from '../__testUtils__/FakeSqlClient';
import { instanceLabels } from '../__testUtils__/tenancy';
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

  it('creates the role and the database it owns, shuts PUBLIC out and stores the credentials in a Secret', async () => {
    const action = makeAction();
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);

    expect(connections[0]).toMatchObject({
      host: 'mlflow-demo.abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      user: 'mlflowadmin',
      database: 'postgres',
      // The master session verifies the server's certificate and host name.
      ssl: { rejectUnauthorized: true },
    });
    expect(sql.statements).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^CREATE ROLE "mlflow_demo" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE/,
        ),
        'CREATE DATABASE "mlflow_demo" OWNER "mlflow_demo"',
        'REVOKE ALL ON DATABASE "mlflow_demo" FROM PUBLIC',
        'CREATE DATABASE "mlflow_demo_auth" OWNER "mlflow_demo"',
        'REVOKE ALL ON DATABASE "mlflow_demo_auth" FROM PUBLIC',
        'REVOKE CONNECT ON DATABASE "postgres" FROM PUBLIC',
      ]),
    );
    const values = secretValues(cluster);
    expect(values.PGPASSWORD).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sql.roles.get('mlflow_demo')!.password).toBe(values.PGPASSWORD);
    expect(values).toEqual({
      MLFLOW_BACKEND_STORE_URI: `postgresql://mlflow_demo@mlflow-demo.abc.eu-west-1.rds.amazonaws.com:5432/mlflow_demo?sslmode=require`,
      MLFLOW_AUTH_DATABASE_URI: `postgresql://mlflow_demo@mlflow-demo.abc.eu-west-1.rds.amazonaws.com:5432/mlflow_demo_auth?sslmode=require`,
      PGUSER: 'mlflow_demo',
      PGPASSWORD: values.PGPASSWORD,
      PGDATABASE: 'mlflow_demo',
      PGHOST: 'mlflow-demo.abc.eu-west-1.rds.amazonaws.com',
      PGPORT: '5432',
      PGSSLMODE: 'require',
    });
    const secret = cluster.objects.get('Secret/mlflow-demo/demo-db')!;
    expect(secret.metadata!.labels).toMatchObject({
      'app.kubernetes.io/instance': 'demo',
      'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow',
    });
    expect(cluster.stored('Namespace')).toHaveLength(1);
    expect(outputs).toEqual({
      databaseName: 'mlflow_demo',
      username: 'mlflow_demo',
      secretName: 'demo-db',
      host: 'mlflow-demo.abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      authDatabaseName: 'mlflow_demo_auth',
      authSecretName: 'demo-mlflow-auth',
      healthSecretName: 'demo-mlflow-health',
    });
    const auth = secretValues(cluster, 'demo-mlflow-auth');
    expect(auth['admin-username']).toBe('admin');
    expect(auth['admin-password']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth['flask-secret-key']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth['basic_auth.ini']).toBe(
      [
        '[mlflow]',
        'default_permission = READ',
        'database_uri = postgresql://mlflow_demo@mlflow-demo.abc.eu-west-1.rds.amazonaws.com:5432/mlflow_demo_auth?sslmode=require',
        'admin_username = admin',
        `admin_password = ${auth['admin-password']}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        'auth_cache_ttl_seconds = 60',
        '',
      ].join('\n'),
    );
    expect(auth['basic_auth.ini']).not.toContain(values.PGPASSWORD);
    const health = secretValues(cluster, 'demo-mlflow-health');
    expect(health.username).toBe('backstage-health');
    expect(health.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sql.ended).toBe(1);
    // The restored-login check runs in the sign-in database as the instance's own role.
    expect(connections[1]).toMatchObject({
      user: 'mlflow_demo',
      password: values.PGPASSWORD,
      database: 'mlflow_demo_auth',
      ssl: { rejectUnauthorized: true },
    });
    expect(sql.statements).toContain(
      "SELECT to_regclass('public.users') IS NOT NULL AS present",
    );
  });

  it('never shows the generated password or the master password in logs, outputs or checkpoint keys', async () => {
    const action = makeAction();
    const run = createCheckpointingContext(action, {
      input: { ...input, storeInSecretsManager: true },
    });
    secrets
      .on(DescribeSecretCommand)
      .rejects(awsError('ResourceNotFoundException', 400));
    secrets
      .on(CreateSecretCommand)
      .resolves({ ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' });
    await action.handler(run.ctx);
    const password = secretValues(cluster).PGPASSWORD;
    const visible = run.everythingVisible();
    const auth = secretValues(cluster, 'demo-mlflow-auth');
    expect(visible).not.toContain(auth['admin-password']);
    expect(visible).not.toContain(auth['flask-secret-key']);
    expect(visible).not.toContain(
      secretValues(cluster, 'demo-mlflow-health').password,
    );
    expect(visible).not.toContain(password);
    expect(visible).not.toContain(encodeURIComponent(password));
    expect(visible).not.toContain(MASTER_PASSWORD);
    expect(run.outputs.secretArn).toBe(
      'arn:aws:secretsmanager:eu-west-1:1:secret:x',
    );
  });

  it('connects through the configured override and writes its host and port into the URI', async () => {
    const action = makeAction({
      connectionOverride: {
        host: '127.0.0.1',
        port: 55432,
        sslMode: 'disable',
      },
    });
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);
    expect(connections[0]).toMatchObject({
      host: '127.0.0.1',
      port: 55432,
      ssl: false,
    });
    expect(secretValues(cluster).MLFLOW_BACKEND_STORE_URI).toBe(
      'postgresql://mlflow_demo@127.0.0.1:55432/mlflow_demo?sslmode=disable',
    );
    expect(outputs).toMatchObject({ host: '127.0.0.1', port: 55432 });
  });

  it('connects without TLS through an override that names no sslMode', async () => {
    const local = makeAction({
      connectionOverride: { host: '127.0.0.1', port: 55432 },
    });
    await local.handler(createCheckpointingContext(local, { input }).ctx);
    expect(connections[0].ssl).toBe(false);
    expect(secretValues(cluster).PGSSLMODE).toBe('disable');
  });

  it('keeps the password of an earlier run and converges without creating anything twice', async () => {
    const action = makeAction();
    await action.handler(createCheckpointingContext(action, { input }).ctx);
    const password = secretValues(cluster).PGPASSWORD;
    const auth = secretValues(cluster, 'demo-mlflow-auth');
    const health = secretValues(cluster, 'demo-mlflow-health');
    await action.handler(
      createCheckpointingContext(action, {
        input: { ...input, defaultPermission: 'NO_PERMISSIONS' },
      }).ctx,
    );
    expect(secretValues(cluster).PGPASSWORD).toBe(password);
    const authAfter = secretValues(cluster, 'demo-mlflow-auth');
    expect(authAfter['admin-password']).toBe(auth['admin-password']);
    expect(authAfter['flask-secret-key']).toBe(auth['flask-secret-key']);
    expect(authAfter['basic_auth.ini']).toContain(
      'default_permission = NO_PERMISSIONS',
    );
    expect(secretValues(cluster, 'demo-mlflow-health').password).toBe(
      health.password,
    );
    expect(
      sql.statements.filter(s => s.startsWith('CREATE ROLE')),
    ).toHaveLength(1);
    expect(sql.statements.filter(s => s.startsWith('CREATE DATABASE'))).toEqual(
      [
        'CREATE DATABASE "mlflow_demo" OWNER "mlflow_demo"',
        'CREATE DATABASE "mlflow_demo_auth" OWNER "mlflow_demo"',
      ],
    );
    expect(sql.statements).toContainEqual(
      expect.stringMatching(/^ALTER ROLE "mlflow_demo" WITH LOGIN PASSWORD/),
    );
    expect(sql.roles.get('mlflow_demo')!.password).toBe(password);
  });

  it('lets two concurrent runs for one instance take turns, so the Secret and the role agree', async () => {
    const action = makeAction({
      connect: async () => new FakeSqlClient(sql),
      lockPollIntervalMs: 5,
    });
    const runs = [
      createCheckpointingContext(action, { input }),
      createCheckpointingContext(action, { input }),
    ];
    await Promise.all(runs.map(run => action.handler(run.ctx)));
    const waited = runs.filter(run =>
      run.logs.some(l =>
        l.message.startsWith(
          'Another run is setting up the database of MLflow instance demo',
        ),
      ),
    );
    expect(waited).toHaveLength(1);
    expect(sql.roles.get('mlflow_demo')!.password).toBe(
      secretValues(cluster).PGPASSWORD,
    );
    expect(sql.advisoryLocks.size).toBe(0);
  });

  it('replays on task recovery without touching the database again', async () => {
    const action = makeAction();
    const first = createCheckpointingContext(action, { input });
    await action.handler(first.ctx);
    const statements = sql.statements.length;
    const recovered = createCheckpointingContext(action, {
      input,
      store: first.store,
    });
    await action.handler(recovered.ctx);
    expect(recovered.executed).toEqual([]);
    expect(sql.statements).toHaveLength(statements);
  });

  it('only checks names during a dry-run', async () => {
    const action = makeAction();
    const { ctx, outputs } = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    await action.handler(ctx);
    expect(sql.statements.every(s => s.startsWith('SELECT'))).toBe(true);
    expect(sql.statements.length).toBeGreaterThan(0);
    expect(cluster.applied).toHaveLength(0);
    expect(outputs.secretName).toBe('demo-db');
  });

  it('sends the Secret with a placeholder password as a server-side dry-run when the namespace exists', async () => {
    cluster.objects.set('Namespace//mlflow-demo', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'mlflow-demo', labels: instanceLabels('demo') },
    });
    const action = makeAction();
    await action.handler(
      createCheckpointingContext(action, { input, isDryRun: true }).ctx,
    );
    expect(cluster.applied).toHaveLength(1);
    expect(cluster.applied[0]).toMatchObject({
      key: 'Secret/mlflow-demo/demo-db',
      dryRun: true,
    });
    expect((cluster.applied[0].object as V1Secret).stringData!.PGPASSWORD).toBe(
      'dry-run-placeholder',
    );
    expect(cluster.stored('Secret')).toHaveLength(0);
  });

  it('waits for an instance that is still being created', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({
        DBInstances: [{ ...instance, DBInstanceStatus: 'creating' }],
      })
      .resolvesOnce({
        DBInstances: [{ ...instance, DBInstanceStatus: 'backing-up' }],
      })
      .resolves({ DBInstances: [instance] });
    const action = makeAction();
    const { ctx, logs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);
    expect(
      logs.some(l =>
        /Done waiting for RDS instance mlflow-demo/.test(l.message),
      ),
    ).toBe(true);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(3);
  });
});
