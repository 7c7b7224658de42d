import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  V1Deployment,
} from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import {
  MlflowHealthReport,
  resolveInstanceNames,
} from '@stateful-mlflow/plugin-mlflow-common';
import { signMlflowDeployment } from '@stateful-mlflow/plugin-mlflow-node';
import { createServer } from 'node:net';
import {
  BackendReplicas,
  stackClustersWithUnreachable,
  startBackendReplicas,
} from './lib/backendReplicas';
import { getEntity, waitForEntity } from './lib/catalogEntities';
import { eventually } from './lib/eventually';
import { holdJobPods } from './lib/jobPodHold';
import {
  awsInventory,
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
import { RedisMonitor } from './lib/redisServer';
import { ScaffolderClient, TaskEvent } from './lib/scaffolderClient';
import { StartedBackend } from './lib/startBackend';

jest.setTimeout(1_200_000);

const CLUSTER = 'local';
const UNREACHABLE_CLUSTER = 'unreachable';
const SIGNING_KEY = `multi-replica-test-key-${Date.now()}-0123456789`;
/** Long enough that "right after" holds on a loaded machine; the test never waits it out. */
const REFRESH_MIN_INTERVAL_SECONDS = 600;
/**
 * How old a task's heartbeat must be before another replica takes it over: well above a busy
 * machine's event-loop stalls (the heartbeat is every second), so only the killed replica's task
 * is taken over, never a live one's.
 */
const STALE_TIMEOUT_SECONDS = 30;

/** A port nothing listens on: the unreachable cluster's API server. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** A signed MLflow Deployment without pods, as the deploy action would have left it. */
function signedDeployment(namespace: string, name: string): V1Deployment {
  const selector = { 'app.kubernetes.io/instance': name };
  return signMlflowDeployment(
    {
      metadata: {
        name,
        namespace,
        labels: {
          'app.kubernetes.io/name': 'mlflow',
          'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow',
          ...selector,
        },
        annotations: {
          'mlflow.org/tracking-url': `http://${name}.mlflow.localhost`,
          'mlflow.org/owner': 'group:default/guests',
          'mlflow.org/environment': 'dev',
        },
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            containers: [
              {
                name: 'mlflow',
                image: 'example/mlflow:3',
                command: ['mlflow'],
              },
            ],
          },
        },
      },
    },
    CLUSTER,
    SIGNING_KEY,
  );
}

async function healthReport(
  backend: StartedBackend,
  token: string,
  name: string,
  refresh = false,
): Promise<MlflowHealthReport> {
  const res = await fetch(
    `${backend.baseUrl}/api/mlflow/v1/health/default/component/${name}${
      refresh ? '?refresh=true' : ''
    }`,
    { headers: { Authorization: `Bearer ${token}` } },
  );
  if (!res.ok) {
    throw new Error(
      `Health of ${name} on ${backend.baseUrl}: ${
        res.status
      } ${await res.text()}`,
    );
  }
  return (await res.json()) as MlflowHealthReport;
}

/**
 * Cache writes and reads of one entity's health report, as Redis received them. Backstage's cache
 * client stores a key base64-encoded after the plugin's namespace (`mlflow:<base64>`).
 */
function reportCommands(monitor: RedisMonitor, entityRef: string) {
  const ofReport = monitor.commands().filter(c => {
    const encoded = c.args[0]?.split(':').pop() ?? '';
    return Buffer.from(encoded, 'base64')
      .toString('utf8')
      .startsWith(`report:${entityRef}:`);
  });
  return {
    writes: ofReport.filter(c => ['set', 'setex', 'psetex'].includes(c.name))
      .length,
    reads: ofReport.filter(c => ['get', 'mget'].includes(c.name)).length,
  };
}

/** Every event of a task so far, read through a replica's scaffolder API. */
async function taskEvents(
  backend: StartedBackend,
  token: string,
  taskId: string,
): Promise<TaskEvent[]> {
  const res = await fetch(
    `${backend.baseUrl}/api/scaffolder/v2/tasks/${taskId}/events`,
    { headers: { Authorization: `Bearer ${token}` } },
  );
  if (!res.ok) {
    throw new Error(`Events of task ${taskId}: ${res.status}`);
  }
  return (await res.json()) as TaskEvent[];
}

describe('two backend replicas on one PostgreSQL database and one Redis', () => {
  const suffix = Date.now().toString(36);
  const namespace = `replicas-${suffix}`;
  const live = `live-${suffix}`;
  const deleted = `gone-${suffix}`;
  const later = `later-${suffix}`;
  let stack: BackendReplicas;
  let a: StartedBackend;
  let b: StartedBackend;
  let token: string;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let kc: KubeConfig;

  beforeAll(async () => {
    kc = new KubeConfig();
    kc.loadFromFile(readStackEnv().kubeconfig);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    stack = await startBackendReplicas({
      count: 2,
      extraConfig: {
        kubernetes: stackClustersWithUnreachable(
          UNREACHABLE_CLUSTER,
          await closedPort(),
        ),
        mlflow: {
          identity: { signingKey: SIGNING_KEY },
          health: {
            cacheTtlSeconds: REFRESH_MIN_INTERVAL_SECONDS,
            refreshMinIntervalSeconds: REFRESH_MIN_INTERVAL_SECONDS,
          },
        },
        catalog: {
          providers: {
            mlflow: {
              schedule: { frequency: { seconds: 3 }, timeout: { minutes: 1 } },
            },
          },
        },
        scaffolder: {
          taskRecovery: {
            enabled: true,
            staleTimeout: { seconds: STALE_TIMEOUT_SECONDS },
          },
        },
      },
    });
    [a, b] = stack.replicas;
    token = await a.guestToken();
  });

  afterAll(async () => {
    await stack?.stop();
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('keeps a live instance and never brings back a deleted one while another cluster fails', async () => {
    for (const name of [live, deleted]) {
      await apps.createNamespacedDeployment({
        namespace,
        body: signedDeployment(namespace, name),
      });
    }
    for (const name of [live, deleted]) {
      await waitForEntity(a.baseUrl, token, { kind: 'component', name });
    }

    await apps.deleteNamespacedDeployment({ namespace, name: deleted });
    await eventually(
      async () => {
        expect(
          await getEntity(a.baseUrl, token, {
            kind: 'component',
            name: deleted,
          }),
        ).toBeUndefined();
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );

    // An instance created after the deletion shows that later refreshes ran; by then the deleted
    // one must still be gone and the live one still there, seen from both replicas.
    await apps.createNamespacedDeployment({
      namespace,
      body: signedDeployment(namespace, later),
    });
    await waitForEntity(b.baseUrl, token, { kind: 'component', name: later });
    for (const replica of [a, b]) {
      expect(
        await getEntity(replica.baseUrl, token, {
          kind: 'component',
          name: deleted,
        }),
      ).toBeUndefined();
      expect(
        await getEntity(replica.baseUrl, token, {
          kind: 'component',
          name: live,
        }),
      ).toBeDefined();
    }
    // The other cluster really failed all along (on whichever replica ran its refresh).
    expect(`${a.output()}${b.output()}`).toContain(
      `Could not list MLflow Deployments in cluster ${UNREACHABLE_CLUSTER}`,
    );
  });

  it('serves a health report computed on one replica from the shared cache on the other', async () => {
    const ref = `component:default/${live}`;
    const monitor = await stack.redis.monitor();
    try {
      const onA = await healthReport(a, token, live);
      const afterA = reportCommands(monitor, ref);
      const onB = await healthReport(b, token, live);
      const afterB = reportCommands(monitor, ref);

      // Checked once, on A: B answers with A's report (same check time) read from Redis,
      // and writes none of its own.
      expect(onB.checkedAt).toBe(onA.checkedAt);
      expect(onB).toEqual(onA);
      expect(afterA.writes).toBe(1);
      expect(afterB.writes).toBe(1);
      expect(afterB.reads).toBeGreaterThan(afterA.reads);
    } finally {
      monitor.stop();
    }
  });

  it('refuses a refresh on one replica right after a refresh on the other', async () => {
    const ref = `component:default/${live}`;
    const before = await healthReport(a, token, live);
    const monitor = await stack.redis.monitor();
    try {
      const refreshedOnA = await healthReport(a, token, live, true);
      const refreshedOnB = await healthReport(b, token, live, true);

      expect(Date.parse(refreshedOnA.checkedAt)).toBeGreaterThan(
        Date.parse(before.checkedAt),
      );
      // B's refresh is within the interval: no new check (nothing newer than A's report, and
      // the only report written to the shared cache is A's).
      expect(Date.parse(refreshedOnB.checkedAt)).toBeLessThanOrEqual(
        Date.parse(refreshedOnA.checkedAt),
      );
      expect(reportCommands(monitor, ref).writes).toBe(1);
    } finally {
      monitor.stop();
    }
  });

  it('finishes a template task on the other replica after the one running it is killed while it waits on the database (SIGKILL), with one of every resource', async () => {
    const name = `mr-${suffix}`;
    const names = defaultResourceNames(name);
    const instanceNames = resolveInstanceNames({ name });
    // No pod of the migration Job starts until A is dead: A is parked in the deploy step's
    // migration wait however slow or fast the machine is, rather than killed in a race with it.
    const hold = await holdJobPods(kc, names.namespace);
    try {
      await waitForEntity(a.baseUrl, token, {
        kind: 'template',
        name: 'mlflow-production',
      });
      const taskId = await new ScaffolderClient(a.baseUrl, token).createTask(
        'template:default/mlflow-production',
        {
          name,
          owner: 'group:default/guests',
          environment: 'dev',
          description: 'Multi-replica recovery test instance',
          region: readStackEnv().awsRegion,
          cluster: CLUSTER,
          replicas: 1,
          image: 'ghcr.io/acme/mlflow-server:3.1.0',
          hostname: `${name}.mlflow.localhost`,
          trustType: 'podIdentity',
        },
      );

      // moto makes RDS instances available at once, so the wait on the database is the deploy
      // step's: until the migration Job (mlflow db upgrade against the instance's database) is
      // done, which the hold keeps from happening. A dies in that wait, after plan, rds,
      // artifacts, role and database completed; then the hold is released for B.
      const waiting = await eventually(
        async () => {
          const events = await taskEvents(b, token, taskId);
          const ended = events.find(e => e.type === 'completion');
          if (ended) {
            throw new Error(
              `Task ${taskId} ended before the migration wait: ${JSON.stringify(
                ended.body,
              )}`,
            );
          }
          const wait = events.find(
            e =>
              e.body.stepId === 'deploy' &&
              /Waiting up to \d+s for the database migration Job/.test(
                e.body.message ?? '',
              ),
          );
          expect(wait).toBeDefined();
          return wait!;
        },
        { timeoutMs: 300_000, intervalMs: 250 },
      );
      expect(a.output()).toContain(taskId);
      await a.kill();
      const killedAt = Date.now();
      await hold.release();

      const result = await new ScaffolderClient(b.baseUrl, token).waitForTask(
        taskId,
        { timeoutMs: 900_000 },
      );
      const finishedAt = Date.now();
      const events = await taskEvents(b, token, taskId);
      const recovered = events.find(e => e.type === 'recovered');
      const after = events.filter(e => e.id > (recovered?.id ?? Infinity));

      expect({
        status: result.status,
        log: result.status === 'completed' ? [] : result.log.slice(-5),
      }).toEqual({ status: 'completed', log: [] });
      expect(recovered).toBeDefined();
      expect(Date.parse(recovered!.createdAt)).toBeGreaterThan(
        Date.parse(waiting.createdAt),
      );
      // B resumed where A stopped: the finished steps were skipped, the deploy step ran again.
      expect(after.map(e => e.body.message)).toEqual(
        expect.arrayContaining(
          ['plan', 'rds', 'artifacts', 'role', 'database'].map(
            step =>
              `Skipping step ${step} because it was already completed in a previous run`,
          ),
        ),
      );
      expect(
        after.some(
          e => e.body.stepId === 'deploy' && e.body.status === 'completed',
        ),
      ).toBe(true);
      expect(b.output()).toContain(taskId);

      const inventory = await awsInventory();
      const inNamespace = { namespace: names.namespace };
      const batch = kc.makeApiClient(BatchV1Api);
      const networking = kc.makeApiClient(NetworkingV1Api);
      const namesOf = (list: {
        items: Array<{ metadata?: { name?: string } }>;
      }) => list.items.map(item => item.metadata?.name).sort();
      const counted = {
        rdsInstances: inventory.rdsInstances.filter(i =>
          i.startsWith(names.rdsInstanceId),
        ),
        buckets: inventory.buckets.filter(bucket =>
          bucket.startsWith(names.bucket),
        ),
        roles: inventory.roles.filter(role => role.startsWith(names.roleName)),
        deployments: namesOf(await apps.listNamespacedDeployment(inNamespace)),
        migrationJobs: namesOf(await batch.listNamespacedJob(inNamespace))
          .length,
        ingresses: namesOf(await networking.listNamespacedIngress(inNamespace)),
        secrets: namesOf(await core.listNamespacedSecret(inNamespace)),
      };
      expect(counted).toEqual({
        rdsInstances: [names.rdsInstanceId],
        buckets: [names.bucket],
        roles: [names.roleName],
        deployments: [name],
        migrationJobs: 1,
        ingresses: [name],
        secrets: [
          instanceNames.databaseSecretName,
          instanceNames.authSecretName,
          instanceNames.healthSecretName,
        ].sort(),
      });
      // The figures recorded in packages/backend/README.md come from this line.
      process.stdout.write(
        `multi-replica recovery: killed in the deploy step's migration wait; recovered (task event) ${
          Date.parse(recovered!.createdAt) - killedAt
        } ms after the kill, finished ${
          finishedAt - killedAt
        } ms after the kill; resources ${JSON.stringify(counted)}\n`,
      );
    } finally {
      await hold.release();
      await deleteInstanceResources(names);
    }
  });
});
