import {
  DBSnapshot,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  AppsV1Api,
  BatchV1Api,
  KubeConfig,
  V1Job,
} from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { randomBytes } from 'node:crypto';
import { devUserToken } from './lib/devUsers';
import { eventually } from './lib/eventually';
import { instanceDatabaseAsSuperuser } from './lib/instanceDatabase';
import {
  defaultResourceNames,
  deleteInstanceResources,
  deleteManualSnapshots,
} from './lib/instanceResources';
import {
  adminTrackingClient,
  logRunWithArtifact,
  MlflowTrackingClient,
  sha256,
} from './lib/mlflowTrackingClient';
import {
  assertTaskCompleted,
  ScaffolderClient,
  TASK_COMPLETED,
  TaskResult,
  taskOutcome,
} from './lib/scaffolderClient';
import { StartedBackend, startStackBackend } from './lib/startBackend';
import { devInstanceValues } from './lib/templateValues';

jest.setTimeout(2_400_000);

const CREATE = 'template:default/mlflow-production';
const UPGRADE = 'template:default/mlflow-upgrade';
/** The stack's node agent runs the MLflow version an image tag names (stack/README.md). */
const OLD_IMAGE = 'ghcr.io/acme/mlflow:v3.16.1';
const NEW_IMAGE = 'ghcr.io/acme/mlflow:v3.17.2';

/** The pre-upgrade snapshots of an RDS instance, by id. */
async function preUpgradeSnapshots(rdsInstanceId: string): Promise<string[]> {
  const { DBSnapshots } = await new RDSClient({
    region: readStackEnv().awsRegion,
  }).send(
    new DescribeDBSnapshotsCommand({
      DBInstanceIdentifier: rdsInstanceId,
      SnapshotType: 'manual',
    }),
  );
  return (DBSnapshots ?? [])
    .map(s => s.DBSnapshotIdentifier!)
    .filter(id => id.includes('-pre-upgrade-'))
    .sort();
}

async function serverVersion(client: MlflowTrackingClient, login: string) {
  const res = await fetch(`${client.trackingUrl}/version`, {
    headers: { Authorization: login },
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 200) {
    throw new Error(`/version answered ${res.status}`);
  }
  return (await res.text()).trim();
}

describe('the mlflow-upgrade template on the local stack', () => {
  const name = `up-${Date.now().toString(36)}`;
  const names = defaultResourceNames(name);
  const artifact = new Uint8Array(randomBytes(64 * 1024));
  let backend: StartedBackend;
  let scaffolder: ScaffolderClient;
  let kc: KubeConfig;
  let client: MlflowTrackingClient;
  let basic: string;
  let runId: string;
  let artifactPath: string;
  let upgrade: TaskResult;
  let failedUpgrade: TaskResult;
  let snapshotOfFailedUpgrade: string[];
  let afterFailedUpgrade: { version: string; ready: boolean };
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const env = readStackEnv();
    kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    ({ backend, scaffolder } = await startStackBackend({
      templates: ['mlflow-production', 'mlflow-upgrade'],
    }));
    const created = await scaffolder.runTemplate(
      CREATE,
      devInstanceValues(name, { image: OLD_IMAGE }),
      { timeoutMs: 900_000 },
    );
    assertTaskCompleted(created, 'create');
    timings.create = created.durationMs;

    const admin = await adminTrackingClient(kc, name);
    client = admin.client;
    basic = `Basic ${Buffer.from(
      `${admin.login.username}:${admin.login.password}`,
    ).toString('base64')}`;
    const before = await eventually(() => serverVersion(client, basic));
    if (before !== '3.16.1') {
      throw new Error(
        `${OLD_IMAGE} should run MLflow 3.16.1, it reports ${before}`,
      );
    }

    // What users logged before the upgrade.
    ({ runId, artifactPath } = await logRunWithArtifact(
      client,
      `before-upgrade-${name}`,
      'trained-on-3.16.1',
      artifact,
    ));

    // First a migration that fails for real, on the database itself: a table the 3.17.2 migration
    // creates is already there, so `mlflow db upgrade` stops (and PostgreSQL rolls it back).
    const blocker = await instanceDatabaseAsSuperuser(name);
    const snapshotsBefore = await preUpgradeSnapshots(names.rdsInstanceId);
    try {
      await blocker.query('CREATE TABLE scheduler_leases (lease_key text)');
      failedUpgrade = await scaffolder.runTemplate(
        UPGRADE,
        { name, region: env.awsRegion, cluster: 'local', image: NEW_IMAGE },
        { timeoutMs: 1_200_000 },
      );
      timings.failedMigration = failedUpgrade.durationMs;
      snapshotOfFailedUpgrade = (
        await preUpgradeSnapshots(names.rdsInstanceId)
      ).filter(id => !snapshotsBefore.includes(id));
      const deployment = await kc
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name, namespace: names.namespace });
      afterFailedUpgrade = {
        version: await serverVersion(client, basic),
        ready:
          deployment.status?.readyReplicas === deployment.spec?.replicas &&
          (deployment.spec?.template.spec?.containers ?? []).every(
            c => c.image === OLD_IMAGE,
          ),
      };
    } finally {
      await blocker.query('DROP TABLE IF EXISTS scheduler_leases');
      await blocker.end();
    }

    upgrade = await scaffolder.runTemplate(
      UPGRADE,
      {
        name,
        region: env.awsRegion,
        cluster: 'local',
        image: NEW_IMAGE,
      },
      { timeoutMs: 1_200_000 },
    );
    timings.upgrade = upgrade.durationMs;
  });

  afterAll(async () => {
    // For the template README: how long each flow took on this stack.
    process.stdout.write(`upgrade timings (ms): ${JSON.stringify(timings)}\n`);
    await backend?.stop();
    await deleteInstanceResources(names);
    // The pre-upgrade snapshot is a dump on the stack's disk.
    await deleteManualSnapshots(names.rdsInstanceId);
  });

  it('completes, naming the snapshot it took before the migration', () => {
    expect(taskOutcome(upgrade, 8)).toEqual(TASK_COMPLETED);
    const text = JSON.stringify(upgrade.output.text);
    expect(text).toMatch(
      new RegExp(`${names.rdsInstanceId}-pre-upgrade-\\d{8}t\\d{6}z`),
    );
    expect(text).toContain('MLflow 3.17.2');
  });

  it('takes the snapshot, available, before the migration Job starts', async () => {
    const [snapshotId] =
      new RegExp(`${names.rdsInstanceId}-pre-upgrade-\\d{8}t\\d{6}z`).exec(
        JSON.stringify(upgrade.output.text),
      ) ?? [];
    const { DBSnapshots } = await new RDSClient({
      region: readStackEnv().awsRegion,
    }).send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }),
    );
    const snapshot = DBSnapshots?.[0] as DBSnapshot;
    expect(snapshot).toMatchObject({
      DBInstanceIdentifier: names.rdsInstanceId,
      Status: 'available',
    });

    // The task waited for `available` before the deploy step applied anything.
    const available = upgrade.log.findIndex(l =>
      l.includes(`Snapshot ${snapshotId} of RDS instance`),
    );
    const firstApply = upgrade.log.findIndex(l => l.includes('Applying '));
    expect(available).toBeGreaterThanOrEqual(0);
    expect(firstApply).toBeGreaterThan(available);

    // Exactly one migration Job runs the new image, created after the snapshot was. The task
    // goes on once the Job's pod has succeeded; the Job controller counts it a moment later.
    const jobs = await eventually(async () => {
      const found = (
        await kc
          .makeApiClient(BatchV1Api)
          .listNamespacedJob({ namespace: names.namespace })
      ).items.filter((j: V1Job) =>
        j.spec?.template.spec?.containers.some(c => c.image === NEW_IMAGE),
      );
      expect(found.map(j => j.status?.succeeded ?? 0)).not.toContain(0);
      return found;
    });
    expect(jobs).toHaveLength(1);
    expect(jobs[0].status?.succeeded).toBe(1);
    expect(
      new Date(jobs[0].metadata!.creationTimestamp!).getTime(),
    ).toBeGreaterThanOrEqual(
      new Date(snapshot.SnapshotCreateTime!).getTime() - 1_000,
    );
  });

  it('serves the new version with every run and artifact logged before', async () => {
    expect(await serverVersion(client, basic)).toBe('3.17.2');
    const run = await client.getRun(runId);
    expect(run.info).toMatchObject({
      run_name: 'trained-on-3.16.1',
      status: 'FINISHED',
    });
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.01' }]);
    expect(run.data.metrics).toEqual([
      expect.objectContaining({ key: 'loss', value: 0.25, step: 3 }),
    ]);
    const downloaded = await client.downloadArtifact(artifactPath);
    expect(sha256(downloaded)).toBe(sha256(artifact));
  });

  const readDeployment = () =>
    kc.makeApiClient(AppsV1Api).readNamespacedDeployment({
      name,
      namespace: names.namespace,
    });

  it('refuses a non-owner before any change, naming the owner', async () => {
    const before = await readDeployment();
    const snapshotsBefore = await preUpgradeSnapshots(names.rdsInstanceId);
    const mallory = new ScaffolderClient(
      backend.baseUrl,
      await devUserToken(backend.baseUrl, 'user:default/mallory'),
    );
    const result = await mallory.runTemplate(
      UPGRADE,
      {
        name,
        region: readStackEnv().awsRegion,
        cluster: 'local',
        image: OLD_IMAGE,
      },
      { timeoutMs: 300_000 },
    );
    expect(result.status).toBe('failed');
    expect(result.log.at(-1)).toMatch(
      /user:default\/mallory may not .* owned by group:default\/guests/,
    );
    // What a change writes: the spec (its generation) and our annotations. Not resourceVersion,
    // which the controllers' status updates move too (the previous rollout settling).
    const written = (d: Awaited<ReturnType<typeof readDeployment>>) => ({
      generation: d.metadata?.generation,
      template: d.spec?.template,
      annotations: Object.fromEntries(
        Object.entries(d.metadata?.annotations ?? {}).filter(
          ([key]) => !key.startsWith('deployment.kubernetes.io/'),
        ),
      ),
    });
    expect(written(await readDeployment())).toEqual(written(before));
    expect(await preUpgradeSnapshots(names.rdsInstanceId)).toEqual(
      snapshotsBefore,
    );
  });

  it('keeps the old version serving, every pod ready, when the migration fails, and names the snapshot to restore', () => {
    expect(failedUpgrade.status).toBe('failed');
    // A snapshot was taken first, and the error names it as the way back.
    expect(snapshotOfFailedUpgrade).toHaveLength(1);
    const error = failedUpgrade.log.at(-1) ?? '';
    expect(error).toMatch(/migration Job .* failed/);
    expect(error).toContain(snapshotOfFailedUpgrade[0]);
    // The Deployment was not touched: the old pods served the old version, every one ready.
    expect(afterFailedUpgrade).toEqual({ version: '3.16.1', ready: true });
  });
});
