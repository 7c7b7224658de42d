import {
  DBSnapshot,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { BatchV1Api, KubeConfig, V1Job } from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { randomBytes } from 'node:crypto';
import { waitForEntity } from './lib/catalogEntities';
import { eventually } from './lib/eventually';
import {
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
import {
  MlflowTrackingClient,
  readAdminLogin,
  sha256,
} from './lib/mlflowTrackingClient';
import { ScaffolderClient, TaskResult } from './lib/scaffolderClient';
import { StartedBackend, startBackend } from './lib/startBackend';

jest.setTimeout(2_400_000);

const CREATE = 'template:default/mlflow-production';
const UPGRADE = 'template:default/mlflow-upgrade';
/** The stack's node agent runs the MLflow version an image tag names (stack/README.md). */
const OLD_IMAGE = 'ghcr.io/acme/mlflow:v3.16.1';
const NEW_IMAGE = 'ghcr.io/acme/mlflow:v3.17.2';

function expectCompleted(result: TaskResult) {
  expect({
    status: result.status,
    log: result.status === 'completed' ? [] : result.log.slice(-8),
  }).toEqual({ status: 'completed', log: [] });
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
  const trackingUrl = `http://${name}.mlflow.localhost`;
  const artifact = new Uint8Array(randomBytes(64 * 1024));
  let backend: StartedBackend;
  let scaffolder: ScaffolderClient;
  let kc: KubeConfig;
  let client: MlflowTrackingClient;
  let basic: string;
  let runId: string;
  let experimentId: string;
  let upgrade: TaskResult;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const env = readStackEnv();
    kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    backend = await startBackend({ configPaths: [env.appConfigPath] });
    const token = await backend.guestToken();
    scaffolder = new ScaffolderClient(backend.baseUrl, token);
    for (const template of ['mlflow-production', 'mlflow-upgrade']) {
      await waitForEntity(backend.baseUrl, token, {
        kind: 'template',
        name: template,
      });
    }
    const created = await scaffolder.runTemplate(
      CREATE,
      {
        name,
        owner: 'group:default/guests',
        environment: 'dev',
        region: env.awsRegion,
        cluster: 'local',
        replicas: 1,
        image: OLD_IMAGE,
        hostname: `${name}.mlflow.localhost`,
        trustType: 'podIdentity',
      },
      { timeoutMs: 900_000 },
    );
    if (created.status !== 'completed') {
      throw new Error(`create failed: ${created.log.slice(-8).join('\n')}`);
    }
    timings.create = created.durationMs;

    const login = await readAdminLogin(
      kc,
      names.namespace,
      resolveInstanceNames({ name }).authSecretName,
    );
    basic = `Basic ${Buffer.from(
      `${login.username}:${login.password}`,
    ).toString('base64')}`;
    client = new MlflowTrackingClient(trackingUrl, 15_000, login);
    const before = await eventually(() => serverVersion(client, basic));
    if (before !== '3.16.1') {
      throw new Error(
        `${OLD_IMAGE} should run MLflow 3.16.1, it reports ${before}`,
      );
    }

    // What users logged before the upgrade.
    experimentId = await client.createExperiment(`before-upgrade-${name}`);
    const run = await client.createRun(experimentId, 'trained-on-3.16.1');
    runId = run.info.run_id;
    await client.logBatch(runId, {
      params: { lr: '0.01' },
      metrics: [{ key: 'loss', value: 0.25, step: 3 }],
      tags: { stage: 'before' },
    });
    await client.uploadArtifact(
      `${experimentId}/${runId}/artifacts/model.bin`,
      artifact,
    );
    await client.finishRun(runId);

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
    const rds = new RDSClient({ region: readStackEnv().awsRegion });
    const { DBSnapshots } = await rds.send(
      new DescribeDBSnapshotsCommand({
        DBInstanceIdentifier: names.rdsInstanceId,
        SnapshotType: 'manual',
      }),
    );
    for (const snapshot of DBSnapshots ?? []) {
      await rds
        .send(
          new DeleteDBSnapshotCommand({
            DBSnapshotIdentifier: snapshot.DBSnapshotIdentifier,
          }),
        )
        .catch(() => undefined);
    }
  });

  it('completes, naming the snapshot it took before the migration', () => {
    expectCompleted(upgrade);
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

    // Exactly one migration Job runs the new image, created after the snapshot was.
    const jobs = (
      await kc
        .makeApiClient(BatchV1Api)
        .listNamespacedJob({ namespace: names.namespace })
    ).items.filter((j: V1Job) =>
      j.spec?.template.spec?.containers.some(c => c.image === NEW_IMAGE),
    );
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
    const downloaded = await client.downloadArtifact(
      `${experimentId}/${runId}/artifacts/model.bin`,
    );
    expect(sha256(downloaded)).toBe(sha256(artifact));
  });
});
