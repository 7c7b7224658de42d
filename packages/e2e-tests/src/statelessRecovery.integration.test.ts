import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { InputError } from '@backstage/errors';
import { KubeConfig } from '@kubernetes/client-node';
import {
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  parseS3Uri,
} from '@stateful-mlflow/plugin-mlflow-common';
import { DeployActionInProcess } from './lib/deployActionInProcess';
import { eventually } from './lib/eventually';
import {
  describeTransitions,
  firstWith,
  HealthSample,
  readHealth,
  watchHealth,
} from './lib/mlflowHealthWatch';
import { deleteNamespace, MlflowServerPods } from './lib/mlflowServerPods';
import {
  MlflowRequestError,
  MlflowTrackingClient,
  readAdminLogin,
} from './lib/mlflowTrackingClient';
import { ScaffolderClient } from './lib/scaffolderClient';
import { StartedBackend, startBackend } from './lib/startBackend';
import { readStackEnv } from '@internal/stack-env';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import {
  dropStackDatabase,
  stackAppConfigPath,
  stackKubeConfig,
} from './statelessRecoveryStack';
import {
  expectedTrackingState,
  readTrackingState,
  RecordedIds,
  recordTrackingState,
  TrackingState,
} from './statelessRecoveryState';

// A warm, idle stack runs the whole file in a few minutes; MLflow's start-up (a Python process per
// pod) takes minutes instead when the machine is busy, so the bounds leave room for that.
jest.setTimeout(900_000);
const POD_START_TIMEOUT_MS = 480_000;

const suffix = Math.random().toString(36).slice(2, 7);
const print = (line: string) => process.stdout.write(`${line}\n`);
const TEMPLATE_REF = 'template:default/mlflow-production';
/** One pod keeps the test light on a shared machine; the code deletes every pod there is. */
const REPLICAS = 1;
/** The health API's refresh limit in this backend; the watch asks no more often. */
const HEALTH_REFRESH_SECONDS = 2;

describe('a provisioned MLflow instance loses nothing when its pods die', () => {
  const name = `recovery-${suffix}`;
  const { namespace, authSecretName } = resolveInstanceNames({ name });
  const entity = { namespace: 'default', kind: 'component', name };
  const values = {
    name,
    owner: 'group:default/guests',
    environment: 'dev',
    description: 'Created by the stateless recovery test',
    cluster: 'local',
    replicas: REPLICAS,
    image: 'ghcr.io/acme/mlflow-server:3.17.2',
    hostname: `${name}.mlflow.localhost`,
    // The API takes values as sent; the Create form would send this default of the template.
    trustType: 'podIdentity',
    // One PostgreSQL serves every instance on the local stack: names of their own per run.
    databaseName: `recovery_${suffix}`,
    databaseUsername: `recovery_${suffix}`,
  };
  let backend: StartedBackend;
  let token: string;
  let scaffolder: ScaffolderClient;
  let kubeConfig: KubeConfig;
  let pods: MlflowServerPods;
  let tracking: MlflowTrackingClient;
  let ids: RecordedIds;
  let recorded: TrackingState;
  const summary: string[] = [];

  /** The later steps build on the earlier ones: say so instead of failing on undefined. */
  const requireSteps = (...done: unknown[]) => {
    if (done.some(d => d === undefined)) {
      throw new Error('An earlier step of this scenario failed; see above');
    }
  };

  const runTemplate = async () => {
    const result = await scaffolder.runTemplate(
      TEMPLATE_REF,
      { ...values, region: readStackEnv().awsRegion },
      { timeoutMs: 840_000, onLog: m => print(`[task] ${m}`) },
    );
    expect(result).toMatchObject({ status: 'completed' });
    return result;
  };

  beforeAll(async () => {
    readStackEnv();
    kubeConfig = stackKubeConfig();
    backend = await startBackend({
      configPaths: [stackAppConfigPath()],
      extraConfig: {
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
    pods = new MlflowServerPods(kubeConfig, namespace, name);
  });

  afterAll(async () => {
    if (summary.length > 0) {
      print(`\n=== Stateless recovery of ${name} ===\n${summary.join('\n')}\n`);
    }
    // Each clean-up runs even when another fails (the stack may have gone away mid-run).
    const failed = (
      await Promise.allSettled([
        kubeConfig && deleteNamespace(kubeConfig, namespace),
        kubeConfig && dropStackDatabase(values.databaseName),
        backend?.stop(),
      ])
    ).filter(r => r.status === 'rejected');
    if (failed.length > 0) {
      throw new Error(
        `Clean-up failed: ${failed.map(r => String(r.reason)).join('; ')}`,
      );
    }
  });

  it('provisions the instance through the mlflow-production template (POST /api/scaffolder/v2/tasks)', async () => {
    await eventually(
      async () => {
        const res = await fetch(
          `${backend.baseUrl}/api/catalog/entities/by-name/template/default/mlflow-production`,
          { headers: { Authorization: `Bearer ${token}` } },
        );
        expect(res.status).toBe(200);
      },
      { timeoutMs: 120_000 },
    );
    const started = Date.now();
    const result = await runTemplate();
    const links = result.output.links as Array<{
      title?: string;
      url?: string;
    }>;
    const trackingUrl = links.find(l => l.title === 'MLflow UI')?.url;
    expect(trackingUrl).toBe(`http://${name}.mlflow.localhost`);
    // Authentication is on: the test signs in as the admin, from the instance's Secret.
    tracking = new MlflowTrackingClient(
      trackingUrl!,
      undefined,
      await readAdminLogin(kubeConfig, namespace, authSecretName),
    );
    await pods.waitForReady({
      replicas: REPLICAS,
      timeoutMs: POD_START_TIMEOUT_MS,
    });
    summary.push(
      `provisioned through the template in ${Math.round(
        (Date.now() - started) / 1000,
      )} s (${REPLICAS} replica(s), PostgreSQL backend store, S3 artifact store)`,
    );
  });

  it('records an experiment, a run with params, metrics and tags, an artifact and a model version through the tracking URL', async () => {
    requireSteps(tracking);
    const label = suffix;
    const written = await recordTrackingState(tracking, label);
    ids = written.ids;
    recorded = await readTrackingState(tracking, ids);
    expect(recorded).toMatchObject(
      expectedTrackingState(ids, written.artifact, label),
    );

    // The bytes went through the server to the bucket: nothing of it stays in a pod.
    const deployment = await pods.readDeployment();
    const root = parseS3Uri(
      deployment.metadata?.annotations?.[ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT] ??
        '',
    );
    expect(root).toBeDefined();
    const objects = await new S3Client({}).send(
      new ListObjectsV2Command({ Bucket: root!.bucket, Prefix: root!.prefix }),
    );
    expect(objects.Contents).toContainEqual(
      expect.objectContaining({
        Key: expect.stringMatching(
          new RegExp(`/${ids.runId}/artifacts/model/weights\\.bin$`),
        ),
        Size: recorded.artifact.bytes,
      }),
    );
  });

  it('keeps everything when every tracking server pod is deleted; the health API goes unhealthy, then healthy again', async () => {
    requireSteps(tracking, recorded);
    // The catalog module lists the new Deployment within its refresh interval.
    await eventually(
      async () => {
        const report = await readHealth({
          ...backend,
          token,
          entity,
          refresh: true,
        });
        expect(report.overall).toBe('healthy');
        expect(report.checks.map(c => [c.id, c.status])).toEqual(
          expect.arrayContaining([
            ['trackingServer', 'ok'],
            ['kubernetes', 'ok'],
          ]),
        );
      },
      { timeoutMs: 180_000, intervalMs: HEALTH_REFRESH_SECONDS * 1000 },
    );
    await new Promise(r => setTimeout(r, HEALTH_REFRESH_SECONDS * 1000));

    // The outage asserted is the tracking server's: the first unhealthy report may only show the
    // Deployment short of replicas while the server still answered, so wait for the one that does.
    const trackingDown = (samples: HealthSample[]) =>
      samples.findIndex(
        s => s.overall === 'unhealthy' && s.checks.trackingServer === 'error',
      );
    const recoveredAfter = (samples: HealthSample[]) => {
      const down = trackingDown(samples);
      return down >= 0 && firstWith(samples, 'healthy', down) > down;
    };
    const deletedAt = Date.now();
    const health = watchHealth({
      ...backend,
      token,
      entity,
      intervalMs: HEALTH_REFRESH_SECONDS * 1000 + 100,
      timeoutMs: POD_START_TIMEOUT_MS,
      until: recoveredAfter,
    });
    const deleted = await pods.deleteAll();
    // A pod that a probe failure ended may still be listed: it goes too.
    expect(deleted.length).toBeGreaterThanOrEqual(REPLICAS);

    // Time to recovery: from the deletion until the tracking API answers with the data again.
    let outageSeenAt: number | undefined;
    let recoveredAt: number | undefined;
    while (
      recoveredAt === undefined &&
      Date.now() - deletedAt < POD_START_TIMEOUT_MS
    ) {
      try {
        const run = await tracking.getRun(ids.runId);
        if (outageSeenAt !== undefined && run.info.status === 'FINISHED') {
          recoveredAt = Date.now();
        }
      } catch {
        outageSeenAt ??= Date.now();
      }
      await new Promise(r => setTimeout(r, 250));
    }
    expect(outageSeenAt).toBeDefined();
    expect(recoveredAt).toBeDefined();
    const replacements = await pods.waitForReady({
      replicas: REPLICAS,
      notUids: deleted,
      timeoutMs: POD_START_TIMEOUT_MS,
    });
    expect(replacements.map(p => p.metadata!.uid)).not.toEqual(
      expect.arrayContaining(deleted),
    );

    expect(await readTrackingState(tracking, ids)).toEqual(recorded);

    const samples = await health;
    expect(recoveredAfter(samples)).toBe(true);
    expect(samples[trackingDown(samples)].checks.trackingServer).toBe('error');

    const recoverySeconds = (recoveredAt! - deletedAt) / 1000;
    print(
      `Time to recovery: ${recoverySeconds.toFixed(1)} s from deleting ${
        deleted.length
      } pod(s) to the tracking API answering with the run again`,
    );
    summary.push(
      `deleted all ${deleted.length} pod(s): tracking API down after ${(
        (outageSeenAt! - deletedAt) /
        1000
      ).toFixed(1)} s, back with the data after ${recoverySeconds.toFixed(
        1,
      )} s (time to recovery); experiment, run, metrics, tags, model version and the ${
        recorded.artifact.bytes
      }-byte artifact (sha256 ${recorded.artifact.sha256.slice(
        0,
        12,
      )}…) unchanged`,
      `health API: ${describeTransitions(samples)}`,
    );
  });

  it('keeps everything when the Deployment is deleted and deployed again', async () => {
    requireSteps(tracking, recorded);
    await pods.deleteDeployment(240_000);
    await expect(tracking.getRun(ids.runId)).rejects.toThrow();

    const started = Date.now();
    await runTemplate();
    await pods.waitForReady({
      replicas: REPLICAS,
      timeoutMs: POD_START_TIMEOUT_MS,
    });

    expect(await readTrackingState(tracking, ids)).toEqual(recorded);
    summary.push(
      `deleted the Deployment and ran the template again: redeployed in ${Math.round(
        (Date.now() - started) / 1000,
      )} s, everything unchanged`,
    );
  });
});

describe("the seed's failure: a tracking server whose state lives in the pod", () => {
  const name = `ephemeral-${suffix}`;
  const { namespace } = resolveInstanceNames({ name });
  const hostname = `${name}.mlflow.localhost`;
  const ephemeralInput = {
    name,
    cluster: 'local',
    namespace,
    image: 'ghcr.io/acme/mlflow-server:3.17.2',
    hostname,
    replicas: 1,
    workers: 1,
    backendStoreUri: 'sqlite:////tmp/mlflow.db',
    artifactsDestination: '/tmp/artifacts',
    // A throw-away server has no sign-in database (that comes from mlflow:database:create).
    allowAnonymousAccess: true,
  };
  let kubeConfig: KubeConfig;
  let deploy: DeployActionInProcess;

  beforeAll(() => {
    readStackEnv();
    kubeConfig = stackKubeConfig();
    deploy = new DeployActionInProcess([stackAppConfigPath()], print);
  });

  afterAll(async () => {
    if (kubeConfig) {
      await deleteNamespace(kubeConfig, namespace);
    }
  });

  it('is refused by the deploy action unless allowEphemeralStorage is set', async () => {
    const refusal = deploy.run(ephemeralInput);
    await expect(refusal).rejects.toThrow(InputError);
    await expect(refusal).rejects.toThrow(
      /Refusing ephemeral storage: artifacts on the pod's local disk \(\/tmp\/artifacts\) and a sqlite backend store in the pod \(sqlite:\/\/\/\/tmp\/mlflow\.db\)/,
    );
    // Refused before any side effect: nothing reached the cluster.
    await expect(
      new MlflowServerPods(kubeConfig, namespace, name).readDeployment(),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('loses every run when its only pod is deleted', async () => {
    const run = await deploy.run({
      ...ephemeralInput,
      allowEphemeralStorage: true,
    });
    expect(run.log).toContainEqual({
      level: 'warn',
      message: expect.stringMatching(/EPHEMERAL STORAGE/),
    });
    const tracking = new MlflowTrackingClient(String(run.output.trackingUrl));
    const pods = new MlflowServerPods(kubeConfig, namespace, name);

    const experimentId = await eventually(() =>
      tracking.createExperiment(`seed-failure-${suffix}`),
    );
    const created = await tracking.createRun(experimentId, 'doomed');
    await tracking.logBatch(created.info.run_id, {
      params: { learning_rate: '0.01' },
      metrics: [{ key: 'accuracy', value: 0.9, step: 0 }],
      tags: { purpose: 'shows the loss' },
    });
    await tracking.finishRun(created.info.run_id);
    expect(
      (await tracking.getRun(created.info.run_id)).data.params,
    ).toContainEqual({ key: 'learning_rate', value: '0.01' });

    const deleted = await pods.deleteAll();
    await pods.waitForReady({
      replicas: 1,
      notUids: deleted,
      timeoutMs: POD_START_TIMEOUT_MS,
    });

    // The replacement pod answers, from a fresh sqlite file: the run and its experiment are gone.
    const lost = await eventually(async () => {
      try {
        await tracking.getRun(created.info.run_id);
      } catch (error) {
        if (error instanceof MlflowRequestError && error.status === 404) {
          return error;
        }
        throw error;
      }
      throw new Error(
        `Run ${created.info.run_id} is still there after the pod was replaced`,
      );
    });
    expect(lost.errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    await expect(tracking.getExperiment(experimentId)).rejects.toMatchObject({
      status: 404,
    });
    print(
      `Ephemeral instance ${name}: run ${created.info.run_id} and experiment ${experimentId} are GONE after the pod was replaced`,
    );
  });
});
