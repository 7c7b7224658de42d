import { readStackEnv } from '@internal/stack-env';
import {
  KubernetesObjectApi,
  V1Deployment,
  V1Job,
} from '@kubernetes/client-node';
import {
  BACKEND_STORE_URI_KEY,
  resolveInstanceNames,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { loadStack, uniqueSuffix } from '../__testUtils__/stack';
import { instanceLabels, testTenancy } from '../__testUtils__/tenancy';
import { createKubernetesDeployAction } from '../actions/kubernetesDeploy';
import { withInputDefaults } from '../actions/withInputDefaults';
import {
  kubernetesApiFromClusters,
  MlflowKubernetesApi,
} from './kubernetesApi';
import { DATABASE_PASSWORD_KEY } from './renderMlflowManifests';

// Three failing migration pods with the Job controller's back-off, then a migration and a rollout,
// all as local processes on a small shared machine.
jest.setTimeout(1_800_000);

const suffix = uniqueSuffix();
const name = `mj-${suffix}`;
const names = resolveInstanceNames({ name });
const role = `mlflow_mj_${suffix}`;
const password = randomBytes(18).toString('base64url');

function superuser() {
  const stack = readStackEnv();
  return new Client({
    host: stack.pgHost,
    port: stack.pgPort,
    user: stack.pgUser,
    password: stack.pgPassword,
    database: 'postgres',
  });
}

describe('the migration Job on the local stack', () => {
  let clusters: MlflowClusters;
  let kube: MlflowKubernetesApi;

  /**
   * The database Secret of the instance, as mlflow:database:create writes it, with the given
   * SQLAlchemy driver in its URI.
   */
  const writeSecret = (scheme: string) => {
    const stack = readStackEnv();
    return kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: names.databaseSecretName,
          namespace: names.namespace,
          labels: instanceLabels(name),
        },
        stringData: {
          [BACKEND_STORE_URI_KEY]: `${scheme}://${role}@${stack.pgHost}:${stack.pgPort}/${role}?sslmode=disable`,
          [DATABASE_PASSWORD_KEY]: password,
        },
      },
      { dryRun: false },
    );
  };

  beforeAll(async () => {
    clusters = MlflowClusters.fromConfig(loadStack().config);
    kube = kubernetesApiFromClusters(clusters)('local');
    const pg = superuser();
    await pg.connect();
    try {
      await pg.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await pg.query(`CREATE DATABASE ${role} OWNER ${role}`);
    } finally {
      await pg.end();
    }
    await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: names.namespace,
          labels: instanceLabels(name),
        },
      },
      { dryRun: false },
    );
  });

  afterAll(async () => {
    if (clusters) {
      await KubernetesObjectApi.makeApiClient(clusters.kubeConfig('local'))
        .delete({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: names.namespace },
        })
        .catch(() => undefined);
    }
    const pg = superuser();
    await pg.connect();
    try {
      await pg.query(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`);
      await pg.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await pg.end();
    }
  });

  it('fails on a wrong database URI in the Secret, then a rerun after the fix replaces the failed Job and converges', async () => {
    const action = withInputDefaults(
      createKubernetesDeployAction({
        ...testTenancy(),
        kubernetes: (cluster, options) =>
          kubernetesApiFromClusters(clusters)(cluster, options),
        pollIntervalMs: 1000,
      }),
    );
    const input = {
      name,
      cluster: 'local',
      image: 'ghcr.io/acme/mlflow-server:3.17.2',
      hostname: `${name}.mlflow.localhost`,
      artifactsDestination: `s3://${names.bucket}/${names.artifactPrefix}`,
      replicas: 1,
      workers: 1,
      // Fewer processes per pod on a shared machine (stack/README.md).
      extraEnv: { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
      // The sign-in Secret comes from mlflow:database:create, which this test stands in for.
      allowAnonymousAccess: true,
      timeoutSeconds: 600,
    };

    // A driver the image lacks fails at once; a wrong password would be retried for minutes by
    // MLflow before each of the Job's three pods gives up.
    await writeSecret('postgresql+nosuchdriver');
    const failed = createCheckpointingContext(action, { input });
    const error = await action.handler(failed.ctx).catch(e => e);
    expect(error.message).toMatch(
      /The database migration Job .* failed \(BackoffLimitExceeded/,
    );
    const [failedJob] = await kube.list<V1Job>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace: names.namespace,
      labelSelector: 'app.kubernetes.io/component=migration',
    });
    expect(
      failedJob.status?.conditions?.find(c => c.type === 'Failed')?.status,
    ).toBe('True');

    await writeSecret('postgresql');
    const rerun = createCheckpointingContext(action, { input });
    await action.handler(rerun.ctx);
    expect(rerun.logs.map(l => l.message).join('\n')).toContain(
      `Job ${names.namespace}/${
        failedJob.metadata!.name
      } failed in an earlier run (BackoffLimitExceeded); replacing it`,
    );

    // The step is done when the Job's pod has succeeded; the Job controller counts it a moment
    // later, so the count is awaited (a minute at most), not read at once.
    const readJob = () =>
      kube.read<V1Job>({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: failedJob.metadata!.name!,
        namespace: names.namespace,
      });
    let job = await readJob();
    for (
      const deadline = Date.now() + 60_000;
      !job?.status?.succeeded && Date.now() < deadline;
      job = await readJob()
    ) {
      await new Promise(r => setTimeout(r, 250));
    }
    expect(job!.metadata!.uid).not.toBe(failedJob.metadata!.uid);
    expect(job!.status?.succeeded).toBe(1);
    const deployment = await kube.read<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: names.deploymentName,
      namespace: names.namespace,
    });
    expect(deployment!.status?.readyReplicas).toBe(1);
    const search = await fetch(
      `${rerun.outputs.trackingUrl}/api/2.0/mlflow/experiments/search`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ max_results: 1 }),
      },
    );
    expect(search.status).toBe(200);
    expect(
      [...failed.logs, ...rerun.logs].map(l => l.message).join('\n'),
    ).not.toContain(password);
  });
});
