import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  MlflowHealthReport,
  MlflowTrackingServerDetails,
  resolveInstanceNames,
} from '@stateful-mlflow/plugin-mlflow-common';
import { readStackEnv } from '@internal/stack-env';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { waitForEntity } from './lib/catalogEntities';
import { eventually } from './lib/eventually';
import {
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
import { listEveryObject } from './lib/kubernetesObjects';
import { readHealth } from './lib/mlflowHealthWatch';
import { MlflowServerPods } from './lib/mlflowServerPods';
import {
  MlflowLogin,
  MlflowRequestError,
  MlflowRun,
  MlflowTrackingClient,
  readAdminLogin,
  sha256,
} from './lib/mlflowTrackingClient';
import {
  findSecrets,
  Haystack,
  readFilesUnder,
  readProcessCommandLines,
  SecretNeedle,
} from './lib/secretScan';
import { ScaffolderClient, TaskResult } from './lib/scaffolderClient';
import { StartedBackend, startBackend } from './lib/startBackend';

// Four template runs and a pod replacement; MLflow's start-up takes minutes on a busy machine.
jest.setTimeout(1_500_000);
const TASK_TIMEOUT_MS = 840_000;
const POD_START_TIMEOUT_MS = 480_000;
const TEMPLATE_REF = 'template:default/mlflow-production';
/** MLflow's built-in admin password: the generated one replaces it. */
const MLFLOW_DEFAULT_ADMIN_PASSWORD = 'password1234';
const HEALTH_REFRESH_SECONDS = 2;

const print = (line: string) => process.stdout.write(`${line}\n`);
const suffix = Math.random().toString(36).slice(2, 7);
const quoteIdentifier = (identifier: string) =>
  `"${identifier.replace(/"/g, '""')}"`;

function stackAdminClient(database: string): Client {
  const env = readStackEnv();
  return new Client({
    host: env.pgHost,
    port: env.pgPort,
    user: env.pgUser,
    password: env.pgPassword,
    database,
  });
}

async function withStackAdmin<T>(
  database: string,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = stackAdminClient(database);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** One key of a Secret, decoded. */
async function readSecretValue(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  key: string,
): Promise<string> {
  const secret = await kubeConfig
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ namespace, name });
  const data = secret.data?.[key];
  if (!data) {
    throw new Error(`Secret ${namespace}/${name} has no ${key} key`);
  }
  return Buffer.from(data, 'base64').toString('utf8');
}

/** The status a request to the tracking server answers, as `login` (anonymous without one). */
async function statusAs(
  trackingUrl: string,
  login: MlflowLogin | undefined,
  method: 'GET' | 'POST',
  path: string,
  body?: Record<string, unknown>,
): Promise<number> {
  const res = await fetch(new URL(path, trackingUrl), {
    method,
    headers: {
      ...(login
        ? {
            Authorization: `Basic ${Buffer.from(
              `${login.username}:${login.password}`,
            ).toString('base64')}`,
          }
        : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** MLflow's auth REST API (`/api/2.0/mlflow/users/...`, `/api/3.0/mlflow/users/permissions/...`) as the admin. */
async function authApi<T>(
  trackingUrl: string,
  admin: MlflowLogin,
  method: 'GET' | 'POST',
  path: string,
  body: Record<string, string>,
): Promise<T> {
  const url = new URL(path, trackingUrl);
  if (method === 'GET') {
    Object.entries(body).forEach(([k, v]) => url.searchParams.set(k, v));
  }
  const res = await fetch(url, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(
        `${admin.username}:${admin.password}`,
      ).toString('base64')}`,
      ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
    },
    body: method === 'POST' ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new MlflowRequestError(
      `${method} ${url.pathname} answered ${res.status}: ${text.slice(0, 300)}`,
      res.status,
    );
  }
  return (text ? JSON.parse(text) : {}) as T;
}

/** The tracking server check of a report, with its details typed. */
function trackingServerCheck(report: MlflowHealthReport) {
  const check = report.checks.find(c => c.id === 'trackingServer');
  return {
    status: check?.status,
    summary: check?.summary,
    details: check?.details as MlflowTrackingServerDetails | undefined,
  };
}

describe("the tracking server's door on an instance made by the mlflow-production template", () => {
  const name = `door-${suffix}`;
  const names = resolveInstanceNames({ name });
  const cleanupNames = defaultResourceNames(name);
  const { namespace } = names;
  const trackingUrl = `http://${name}.mlflow.localhost`;
  const entity = { namespace: 'default', kind: 'component', name };
  const backendDatabase = `e2e_door_${suffix}`;
  const values = {
    name,
    owner: 'group:default/guests',
    environment: 'dev',
    description: 'Created by the tracking server authentication test',
    cluster: 'local',
    replicas: 1,
    image: 'ghcr.io/acme/mlflow-server:3.1.0',
    hostname: `${name}.mlflow.localhost`,
    trustType: 'podIdentity',
  };
  let kubeConfig: KubeConfig;
  let backend: StartedBackend;
  let token: string;
  let scaffolder: ScaffolderClient;
  const tasks: TaskResult[] = [];
  let admin: MlflowLogin;
  let health: MlflowLogin;
  let tracking: MlflowTrackingClient;
  /** What the admin wrote before the pods were replaced. */
  let written:
    | {
        experimentId: string;
        run: MlflowRun;
        artifactPath: string;
        artifactSha256: string;
      }
    | undefined;
  /** A user the admin created and granted EDIT on the experiment. */
  let editor: MlflowLogin | undefined;

  /** The later steps build on the earlier ones: say so instead of failing on undefined. */
  const requireSteps = (...done: unknown[]) => {
    if (done.some(d => d === undefined)) {
      throw new Error('An earlier step of this scenario failed; see above');
    }
  };

  const runTemplate = async (extra: Record<string, unknown> = {}) => {
    const result = await scaffolder.runTemplate(
      TEMPLATE_REF,
      { ...values, region: readStackEnv().awsRegion, ...extra },
      { timeoutMs: TASK_TIMEOUT_MS, onLog: m => print(`[task] ${m}`) },
    );
    tasks.push(result);
    expect({
      status: result.status,
      log: result.status === 'completed' ? [] : result.log.slice(-5),
    }).toEqual({ status: 'completed', log: [] });
    return result;
  };

  beforeAll(async () => {
    const env = readStackEnv();
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(env.kubeconfig);
    // A database of its own on the stack's PostgreSQL, so the scaffolder's checkpoints can be read.
    // Not open to every role: the instance's login role lives on this PostgreSQL too.
    await withStackAdmin('postgres', async c => {
      await c.query(`CREATE DATABASE ${quoteIdentifier(backendDatabase)}`);
      await c.query(
        `REVOKE CONNECT ON DATABASE ${quoteIdentifier(
          backendDatabase,
        )} FROM PUBLIC`,
      );
    });
    backend = await startBackend({
      configPaths: [env.appConfigPath],
      extraConfig: {
        backend: {
          database: {
            client: 'pg',
            pluginDivisionMode: 'schema',
            connection: {
              host: env.pgHost,
              port: env.pgPort,
              user: env.pgUser,
              password: env.pgPassword,
              database: backendDatabase,
            },
          },
        },
        mlflow: {
          catalog: { refreshIntervalSeconds: 5 },
          health: {
            cacheTtlSeconds: HEALTH_REFRESH_SECONDS,
            refreshMinIntervalSeconds: HEALTH_REFRESH_SECONDS,
          },
        },
      },
    });
    token = await backend.guestToken();
    scaffolder = new ScaffolderClient(backend.baseUrl, token);
    await waitForEntity(backend.baseUrl, token, {
      kind: 'template',
      name: 'mlflow-production',
    });
  });

  afterAll(async () => {
    const failed = (
      await Promise.allSettled([
        deleteInstanceResources(cleanupNames),
        (async () => {
          await backend?.stop();
          await withStackAdmin('postgres', c =>
            c.query(
              `DROP DATABASE IF EXISTS ${quoteIdentifier(
                backendDatabase,
              )} WITH (FORCE)`,
            ),
          );
        })(),
      ])
    ).filter(r => r.status === 'rejected');
    if (failed.length > 0) {
      throw new Error(
        `Clean-up failed: ${failed.map(r => String(r.reason)).join('; ')}`,
      );
    }
  });

  it('creates the instance with sign-in required (POST /api/scaffolder/v2/tasks)', async () => {
    const result = await runTemplate();
    const links = result.output.links as Array<{
      title?: string;
      url?: string;
    }>;
    expect(links.find(l => l.title === 'MLflow UI')?.url).toBe(trackingUrl);
    // A new instance has nothing to turn on.
    expect(result.log.join('\n')).not.toMatch(/Turning on sign-in/);
    expect(result.log.join('\n')).toContain(
      `sign-in required (MLflow basic-auth, admin login in Secret ${namespace}/${names.authSecretName})`,
    );
    admin = await readAdminLogin(kubeConfig, namespace, names.authSecretName);
    health = {
      username: await readSecretValue(
        kubeConfig,
        namespace,
        names.healthSecretName,
        'username',
      ),
      password: await readSecretValue(
        kubeConfig,
        namespace,
        names.healthSecretName,
        'password',
      ),
    };
    tracking = new MlflowTrackingClient(trackingUrl, undefined, admin);
  });

  it('refuses anonymous requests and the default admin password with 401', async () => {
    requireSteps(admin);
    const search = [
      'POST',
      '/api/2.0/mlflow/experiments/search',
      {
        max_results: 1,
      },
    ] as const;
    expect(await statusAs(trackingUrl, undefined, ...search)).toBe(401);
    expect(
      await statusAs(
        trackingUrl,
        undefined,
        'POST',
        '/api/2.0/mlflow/experiments/create',
        { name: `anonymous-${suffix}` },
      ),
    ).toBe(401);
    expect(admin.password).not.toBe(MLFLOW_DEFAULT_ADMIN_PASSWORD);
    expect(
      await statusAs(
        trackingUrl,
        { username: admin.username, password: MLFLOW_DEFAULT_ADMIN_PASSWORD },
        ...search,
      ),
    ).toBe(401);
    // The same request with the generated password goes through: the refusals were the login's.
    expect(await statusAs(trackingUrl, admin, ...search)).toBe(200);
  });

  it('lets the generated admin log a run and an artifact', async () => {
    requireSteps(tracking);
    const experimentId = await tracking.createExperiment(`door-${suffix}`);
    const run = await tracking.createRun(experimentId, 'signed-in');
    await tracking.logBatch(run.info.run_id, {
      params: { learning_rate: '0.01' },
      metrics: [{ key: 'accuracy', value: 0.93, step: 1 }],
      tags: { purpose: 'authentication test' },
    });
    const artifact = randomBytes(4096);
    const artifactPath = MlflowTrackingClient.proxiedArtifactPath(
      run,
      'model/weights.bin',
    );
    await tracking.uploadArtifact(artifactPath, artifact);
    await tracking.finishRun(run.info.run_id);
    expect(sha256(await tracking.downloadArtifact(artifactPath))).toBe(
      sha256(artifact),
    );
    const read = await tracking.getRun(run.info.run_id);
    expect(read.info.status).toBe('FINISHED');
    expect(read.data.params).toContainEqual({
      key: 'learning_rate',
      value: '0.01',
    });
    written = {
      experimentId,
      run: read,
      artifactPath,
      artifactSha256: sha256(artifact),
    };
  });

  it('lets the health user read but refuses its writes with 403', async () => {
    requireSteps(written, health);
    const { experimentId, run } = written!;
    expect(health.username).not.toBe(admin.username);
    expect(
      await statusAs(
        trackingUrl,
        health,
        'POST',
        '/api/2.0/mlflow/experiments/search',
        { max_results: 1 },
      ),
    ).toBe(200);
    const asHealth = tracking.as(health);
    await expect(asHealth.createRun(experimentId, 'intruder')).rejects.toEqual(
      expect.objectContaining({ status: 403 }),
    );
    await expect(
      asHealth.logBatch(run.info.run_id, {
        params: { overwritten: 'yes' },
        metrics: [],
        tags: {},
      }),
    ).rejects.toEqual(expect.objectContaining({ status: 403 }));
    expect(
      await statusAs(
        trackingUrl,
        health,
        'POST',
        '/api/2.0/mlflow/experiments/delete',
        { experiment_id: experimentId },
      ),
    ).toBe(403);
  });

  it('reports the instance healthy through the health API, signed in as the health user', async () => {
    requireSteps(admin);
    const report = await eventually(
      async () => {
        const r = await readHealth({
          ...backend,
          token,
          entity,
          refresh: true,
        });
        expect({
          overall: r.overall,
          trackingServer: trackingServerCheck(r).status,
          summaries: r.checks
            .filter(c => c.status !== 'ok')
            .map(c => `${c.id}: ${c.summary}`),
        }).toEqual({ overall: 'healthy', trackingServer: 'ok', summaries: [] });
        return r;
      },
      { timeoutMs: 240_000, intervalMs: HEALTH_REFRESH_SECONDS * 1000 },
    );
    const { details } = trackingServerCheck(report);
    expect(details).toMatchObject({
      url: trackingUrl,
      backendStoreReachable: true,
      authMode: 'basic-auth',
      adminSecretName: names.authSecretName,
    });
    expect(details?.compliance).toContainEqual(
      expect.objectContaining({ id: 'authentication', ok: true }),
    );
  });

  it('keeps users, permissions and runs when every tracking server pod is replaced', async () => {
    requireSteps(written);
    const { experimentId, run, artifactPath, artifactSha256 } = written!;
    editor = {
      username: `editor-${suffix}`,
      password: randomBytes(24).toString('base64url'),
    };
    await authApi(
      trackingUrl,
      admin,
      'POST',
      '/api/2.0/mlflow/users/create',
      editor,
    );
    const editorOnExperiment = {
      username: editor.username,
      resource_type: 'experiment',
      resource_id: experimentId,
    };
    await authApi(
      trackingUrl,
      admin,
      'POST',
      '/api/3.0/mlflow/users/permissions/grant',
      { ...editorOnExperiment, permission: 'EDIT' },
    );
    // EDIT lets the editor write where the default permission (READ) would not.
    await tracking.as(editor).createRun(experimentId, 'by-the-editor');

    const pods = new MlflowServerPods(kubeConfig, namespace, name);
    const deleted = await pods.deleteAll();
    await pods.waitForReady({
      replicas: 1,
      notUids: deleted,
      timeoutMs: POD_START_TIMEOUT_MS,
    });
    // The replacement serves the run again once it is ready behind the Service.
    const again = await eventually(() => tracking.getRun(run.info.run_id), {
      timeoutMs: 120_000,
      intervalMs: 1_000,
    });

    expect(again).toEqual(run);
    expect(sha256(await tracking.downloadArtifact(artifactPath))).toBe(
      artifactSha256,
    );
    const permission = await authApi<{ permission: string }>(
      trackingUrl,
      admin,
      'GET',
      '/api/3.0/mlflow/users/permissions/get',
      editorOnExperiment,
    );
    expect(permission.permission).toBe('EDIT');
    await tracking.as(editor).createRun(experimentId, 'after-the-restart');
    await expect(
      tracking.as(health).createRun(experimentId, 'intruder'),
    ).rejects.toEqual(expect.objectContaining({ status: 403 }));
    expect(
      await statusAs(
        trackingUrl,
        undefined,
        'GET',
        '/api/2.0/mlflow/experiments/search?max_results=1',
      ),
    ).toBe(401);
  });

  it('turns sign-in on for an instance that had none when the template runs again without allowAnonymousAccess, and says so', async () => {
    requireSteps(written);
    // The instance without sign-in: the same template with the Access page's opt-out.
    const open = await runTemplate({ allowAnonymousAccess: true });
    expect(open.log.join('\n')).toContain(
      'NO SIGN-IN: anyone who reaches the tracking URL may read and change everything',
    );
    const anonymous = () =>
      statusAs(
        trackingUrl,
        undefined,
        'POST',
        '/api/2.0/mlflow/experiments/search',
        { max_results: 1 },
      );
    await eventually(async () => expect(await anonymous()).toBe(200), {
      timeoutMs: POD_START_TIMEOUT_MS,
      intervalMs: 1_000,
    });

    const rerun = await runTemplate();
    expect(rerun.log).toContainEqual(
      expect.stringContaining(
        `Turning on sign-in for MLflow instance ${name}: it answered anonymous requests until now`,
      ),
    );
    // The old pod may serve until it is gone: wait for the door to be shut again.
    await eventually(async () => expect(await anonymous()).toBe(401), {
      timeoutMs: POD_START_TIMEOUT_MS,
      intervalMs: 1_000,
    });
    expect(await tracking.getRun(written!.run.info.run_id)).toEqual(
      written!.run,
    );
    // The same admin login: the rerun kept the Secret.
    expect(
      await readAdminLogin(kubeConfig, namespace, names.authSecretName),
    ).toEqual(admin);

    const again = await runTemplate();
    expect(again.log.join('\n')).not.toMatch(/Turning on sign-in/);
  });

  it('leaves the database and admin passwords nowhere but in their Secrets and the processes that need them', async () => {
    requireSteps(admin, health);
    const needles: SecretNeedle[] = [
      {
        label: 'database password',
        value: await readSecretValue(
          kubeConfig,
          namespace,
          names.databaseSecretName,
          'PGPASSWORD',
        ),
      },
      { label: 'admin password', value: admin.password },
      { label: 'health user password', value: health.password },
    ];
    const haystacks: Haystack[] = [];
    const api = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${backend.baseUrl}${path}`, {
        ...init,
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
        },
      });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      return res.text();
    };

    // Task logs and outputs, as the scaffolder API serves them.
    expect(tasks.length).toBe(4);
    for (const { taskId } of tasks) {
      haystacks.push(
        {
          where: `task ${taskId}`,
          content: await api(`/api/scaffolder/v2/tasks/${taskId}`),
        },
        {
          where: `events of task ${taskId}`,
          content: await api(`/api/scaffolder/v2/tasks/${taskId}/events`),
        },
      );
    }
    // Every row of every table of the backend's database: the scaffolder's tasks with their
    // checkpoints and events, the catalog's, and every other plugin's.
    const tables = await withStackAdmin(backendDatabase, async client => {
      const list = await client.query<{ schema: string; table: string }>(
        `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      const dumps: Haystack[] = [];
      for (const { schema, table } of list.rows) {
        const rows = await client.query<{ row: string }>(
          `SELECT t::text AS row FROM ${quoteIdentifier(
            schema,
          )}.${quoteIdentifier(table)} t`,
        );
        dumps.push({
          where: `table ${schema}.${table} of the backend's database`,
          content: rows.rows.map(r => r.row).join('\n'),
        });
      }
      return dumps;
    });
    const checkpoints = tables.find(
      t => t.where === `table scaffolder.tasks of the backend's database`,
    );
    // The checkpoints are in the task's state: the scan really read them.
    expect(String(checkpoints?.content)).toContain('mlflow:k8s:');
    haystacks.push(...tables);

    haystacks.push(
      {
        where: 'catalog entities',
        content: await api('/api/catalog/entities'),
      },
      {
        where: 'health report',
        content: await api(
          `/api/mlflow/v1/health/default/component/${name}?refresh=true`,
        ),
      },
      {
        where: 'health reports (POST)',
        content: await api('/api/mlflow/v1/health', {
          method: 'POST',
          body: JSON.stringify({ entityRefs: [`component:default/${name}`] }),
        }),
      },
      { where: "the backend's log", content: backend.output() },
    );

    const objects = await listEveryObject(kubeConfig, ['secrets']);
    // The listing covered the instance's own objects and the cluster's events.
    const itemsOf = (resource: string) =>
      objects.find(o => o.resource === resource)?.items ?? [];
    expect(itemsOf('apps/v1 deployments')).toContain(`${namespace}/${name}`);
    expect(
      itemsOf('v1 configmaps').some(i => i.startsWith(`${namespace}/`)),
    ).toBe(true);
    expect(itemsOf('v1 events').some(i => i.startsWith(`${namespace}/`))).toBe(
      true,
    );
    haystacks.push(
      ...objects.map(o => ({
        where: `Kubernetes ${o.resource}`,
        content: o.body,
      })),
    );

    const logs = readFilesUnder(
      join(dirname(readStackEnv().appConfigPath), 'logs'),
    );
    expect(logs.length).toBeGreaterThan(0);
    haystacks.push(...logs, ...readProcessCommandLines());

    print(
      `Searched ${haystacks.length} places for ${needles
        .map(n => n.label)
        .join(', ')}`,
    );
    expect(findSecrets(needles, haystacks)).toEqual([]);
  });
});
