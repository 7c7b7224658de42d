import { DeleteDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { ConfigReader } from '@backstage/config';
import { JsonValue } from '@backstage/types';
import { KubernetesObjectApi, V1Role, V1Secret } from '@kubernetes/client-node';
import {
  AwsClientConfigFactory,
  MlflowClusters,
} from '@stateful-mlflow/plugin-mlflow-node';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { loadStack, uniqueSuffix } from '../__testUtils__/stack';
import { testTenancy } from '../__testUtils__/tenancy';
import { createDatabaseCreateAction } from '../actions/databaseCreate';
import { createKubernetesDeployAction } from '../actions/kubernetesDeploy';
import { createRdsCreateAction } from '../actions/rdsCreate';
import { createS3CreateAction } from '../actions/s3Create';
import {
  kubernetesApiFromClusters,
  MlflowKubernetesApi,
} from './kubernetesApi';

// Pods are local processes on a small shared machine: MLflow starts slowly under load.
jest.setTimeout(900_000);

const REGION = 'eu-west-1';
const suffix = uniqueSuffix();
const name = `auth-${suffix}`;
const namespace = `mlflow-${name}`;
/** What MLflow's basic-auth app sets as the admin password when nothing overrides it. */
const MLFLOW_DEFAULT_ADMIN_PASSWORD = 'password1234';

const basic = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString(
    'base64',
  )}`,
});

/**
 * Sign-in end to end on the stack, through the actions, with no connectionOverride: the stack's
 * RDS instances are real PostgreSQL servers with certificates of the stack's CA, so the master
 * session is verified (verify-full) against that CA given as the bundle.
 */
describe('tracking server sign-in on the local stack', () => {
  let aws: AwsClientConfigFactory;
  let clusters: MlflowClusters;
  let kube: MlflowKubernetesApi;
  let caBundle: string;
  const outputs: Record<string, Record<string, JsonValue>> = {};
  const visible: string[] = [];

  const readSecret = async (secretName: string) => {
    const secret = await kube.read<V1Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      name: secretName,
      namespace,
    });
    return (key: string) =>
      Buffer.from(secret!.data![key], 'base64').toString();
  };

  beforeAll(() => {
    const { config } = loadStack();
    aws = AwsClientConfigFactory.fromConfig(new ConfigReader({}));
    clusters = MlflowClusters.fromConfig(config);
    kube = kubernetesApiFromClusters(clusters)('local');
    // The stack's CA signs the API server's and every RDS instance's certificate.
    const [cluster] = config
      .getConfigArray('kubernetes.clusterLocatorMethods')[0]
      .getConfigArray('clusters');
    caBundle = readFileSync(cluster.getString('caFile'), 'utf8');
  });

  afterAll(async () => {
    if (clusters) {
      await KubernetesObjectApi.makeApiClient(clusters.kubeConfig('local'))
        .delete({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespace },
        })
        .catch(() => undefined);
    }
    if (aws) {
      // Stops the instance's PostgreSQL server on the stack.
      await new RDSClient(await aws.forRegion({ region: REGION }))
        .send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: `mlflow-${name}`,
            SkipFinalSnapshot: true,
            DeleteAutomatedBackups: true,
          }),
        )
        .catch(() => undefined);
    }
  });

  const databaseInput = () => ({
    name,
    region: REGION,
    instanceId: outputs.rds.instanceId as string,
    masterSecretArn: outputs.rds.masterSecretArn as string,
    cluster: 'local',
    defaultPermission: 'READ',
  });

  it('creates the bucket and the RDS instance', async () => {
    const s3 = createS3CreateAction({ aws, ...testTenancy() });
    const bucket = createCheckpointingContext(s3, {
      input: { name, bucket: `mlflow-${name}`, region: REGION },
    });
    await s3.handler(bucket.ctx);
    outputs.s3 = bucket.outputs;
    const rds = createRdsCreateAction({
      aws,
      ...testTenancy(),
      pollIntervalMs: 500,
    });
    const instance = createCheckpointingContext(rds, {
      input: { name, region: REGION, timeoutSeconds: 600 },
    });
    await rds.handler(instance.ctx);
    outputs.rds = instance.outputs;
    expect(instance.outputs.status).toBe('available');
  });

  it("refuses the RDS certificate without the CA bundle (verify-full against Node's trust store)", async () => {
    const action = createDatabaseCreateAction({
      aws,
      kubernetes: () => kube,
      ...testTenancy(),
      pollIntervalMs: 500,
    });
    const { ctx, logs } = createCheckpointingContext(action, {
      input: { ...databaseInput(), timeoutSeconds: 120 },
    });
    await expect(action.handler(ctx)).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)|certificate/i,
    );
    expect(logs.map(l => l.message).join('\n')).toContain(
      "(verify-full) against Node's trust store (mlflow.database.caBundlePath is not set)",
    );
  });

  it('creates the database, the sign-in database and their Secrets over a verified connection', async () => {
    const action = createDatabaseCreateAction({
      aws,
      kubernetes: () => kube,
      ...testTenancy(),
      pollIntervalMs: 500,
      caBundle,
    });
    const run = createCheckpointingContext(action, { input: databaseInput() });
    await action.handler(run.ctx);
    visible.push(run.everythingVisible());
    outputs.database = run.outputs;
    expect(run.outputs).toMatchObject({
      authSecretName: `${name}-mlflow-auth`,
      healthSecretName: `${name}-mlflow-health`,
      authDatabaseName: `${run.outputs.databaseName}_auth`,
    });
    expect(run.logs.map(l => l.message).join('\n')).toContain(
      '(verify-full) against mlflow.database.caBundlePath',
    );
    // Nothing weaker than verify-full was used, so nothing warned about it.
    expect(run.logs.map(l => l.message).join('\n')).not.toMatch(
      /NOT verified|NOT encrypted/,
    );
  });

  it("refuses anonymous requests and MLflow's default admin password; the generated admin logs a run, the health user only reads", async () => {
    const action = createKubernetesDeployAction({
      ...testTenancy(),
      kubernetes: () => kube,
      pollIntervalMs: 1000,
      healthSecretReader: { kind: 'User', name: 'stack-admin' },
    });
    const run = createCheckpointingContext(action, {
      input: {
        name,
        cluster: 'local',
        image: 'ghcr.io/acme/mlflow-server:3.1.0',
        hostname: `${name}.mlflow.localhost`,
        region: REGION,
        replicas: 1,
        workers: 1,
        artifactsDestination: outputs.s3.artifactRoot as string,
        databaseSecretName: outputs.database.secretName as string,
        rdsInstanceId: outputs.rds.instanceId as string,
        databaseName: outputs.database.databaseName as string,
        authSecretName: outputs.database.authSecretName as string,
        healthSecretName: outputs.database.healthSecretName as string,
        timeoutSeconds: 600,
      },
    });
    await action.handler(run.ctx);
    visible.push(run.everythingVisible());
    expect(run.outputs).toMatchObject({
      authMode: 'basic-auth',
      authSecretName: `${name}-mlflow-auth`,
    });
    // The migration Job made the health-check user: one signed-in search after the rollout.
    expect(run.logs.map(l => l.message).join('\n')).toMatch(
      /Health-check user backstage-health signs in and searches experiments/,
    );
    const api = `${run.outputs.trackingUrl}/api/2.0/mlflow`;
    const search = (headers: Record<string, string>) =>
      fetch(`${api}/experiments/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ max_results: 1 }),
      });

    expect((await search({})).status).toBe(401);
    const admin = await readSecret(outputs.database.authSecretName as string);
    expect(
      (await search(basic('admin', MLFLOW_DEFAULT_ADMIN_PASSWORD))).status,
    ).toBe(401);

    const asAdmin = basic(admin('admin-username'), admin('admin-password'));
    const post = (path: string, body: object) =>
      fetch(`${api}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...asAdmin },
        body: JSON.stringify(body),
      });
    const experiment = await post('experiments/create', {
      name: `signed-in-${suffix}`,
    });
    expect(experiment.status).toBe(200);
    const { experiment_id } = (await experiment.json()) as {
      experiment_id: string;
    };
    const created = await post('runs/create', {
      experiment_id,
      start_time: Date.now(),
    });
    expect(created.status).toBe(200);
    const runId = (
      (await created.json()) as { run: { info: { run_id: string } } }
    ).run.info.run_id;
    expect(
      (
        await post('runs/log-metric', {
          run_id: runId,
          key: 'accuracy',
          value: 0.93,
          timestamp: Date.now(),
          step: 0,
        })
      ).status,
    ).toBe(200);
    const logged = await fetch(`${api}/runs/get?run_id=${runId}`, {
      headers: asAdmin,
    });
    expect(
      ((await logged.json()) as { run: { data: { metrics: object[] } } }).run
        .data.metrics,
    ).toEqual([expect.objectContaining({ key: 'accuracy', value: 0.93 })]);

    const health = await readSecret(
      outputs.database.healthSecretName as string,
    );
    const asHealth = basic(health('username'), health('password'));
    expect((await search(asHealth)).status).toBe(200);
    // MLflow lets any signed-in user create experiments; what others own it may only read.
    const asHealthPost = (path: string, body: object) =>
      fetch(`${api}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...asHealth },
        body: JSON.stringify(body),
      });
    expect(
      (
        await asHealthPost('experiments/set-experiment-tag', {
          experiment_id,
          key: 'tampered',
          value: 'yes',
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await asHealthPost('runs/log-metric', {
          run_id: runId,
          key: 'accuracy',
          value: 0,
          timestamp: Date.now(),
          step: 1,
        })
      ).status,
    ).toBe(403);

    // Backstage's identity may get the health Secret, and nothing else.
    const role = await kube.read<V1Role>({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      name: `${name}-health-secret-reader`,
      namespace,
    });
    expect(role?.rules).toEqual([
      expect.objectContaining({
        resources: ['secrets'],
        resourceNames: [`${name}-mlflow-health`],
        verbs: ['get'],
      }),
    ]);
  });

  it("ran the sign-in database's migrations before the rollout: its tables hold the admin", async () => {
    const db = await readSecret(outputs.database.secretName as string);
    const client = new Client({
      host: db('PGHOST'),
      port: Number(db('PGPORT')),
      user: db('PGUSER'),
      password: db('PGPASSWORD'),
      database: outputs.database.authDatabaseName as string,
      ssl: { rejectUnauthorized: true, ca: caBundle },
    });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables.rows.map(r => r.table_name)).toEqual(
        expect.arrayContaining([
          'users',
          'experiment_permissions',
          'registered_model_permissions',
        ]),
      );
      const users = await client.query<{ username: string; is_admin: boolean }>(
        'SELECT username, is_admin FROM users ORDER BY username',
      );
      expect(users.rows).toEqual([
        { username: 'admin', is_admin: true },
        { username: 'backstage-health', is_admin: false },
      ]);
    } finally {
      await client.end();
    }
  });

  it('showed no password in any log line, output or checkpoint key', async () => {
    expect(visible).toHaveLength(2);
    const admin = await readSecret(outputs.database.authSecretName as string);
    const db = await readSecret(outputs.database.secretName as string);
    const health = await readSecret(
      outputs.database.healthSecretName as string,
    );
    const all = visible.join('\n');
    for (const password of [
      admin('admin-password'),
      admin('flask-secret-key'),
      db('PGPASSWORD'),
      health('password'),
    ]) {
      expect(password).toMatch(/^.{32,}$/);
      expect(all).not.toContain(password);
    }
  });
});
