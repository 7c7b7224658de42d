import {
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { KubeConfig } from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { randomBytes } from 'node:crypto';
import { waitForEntity } from './lib/catalogEntities';
import { devUserToken } from './lib/devUsers';
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

jest.setTimeout(3_600_000);

const CREATE = 'template:default/mlflow-production';
const DECOMMISSION = 'template:default/mlflow-decommission';

function createValues(name: string): Record<string, unknown> {
  return {
    name,
    owner: 'group:default/guests',
    environment: 'dev',
    region: readStackEnv().awsRegion,
    cluster: 'local',
    replicas: 1,
    image: 'ghcr.io/acme/mlflow-server:3.1.0',
    hostname: `${name}.mlflow.localhost`,
    trustType: 'podIdentity',
  };
}

function decommissionValues(name: string): Record<string, unknown> {
  return {
    name,
    confirmName: name,
    region: readStackEnv().awsRegion,
    cluster: 'local',
  };
}

function expectCompleted(result: TaskResult) {
  expect({
    status: result.status,
    log: result.status === 'completed' ? [] : result.log.slice(-8),
  }).toEqual({ status: 'completed', log: [] });
}

function mustComplete(result: TaskResult, what: string) {
  if (result.status !== 'completed') {
    throw new Error(`${what} failed: ${result.log.slice(-8).join('\n')}`);
  }
}

/** The final snapshot a decommission names in its output. */
function finalSnapshotOf(result: TaskResult, name: string): string {
  const [snapshot] =
    new RegExp(`mlflow-${name}-final-[0-9a-z-]+`).exec(
      JSON.stringify(result.output),
    ) ?? [];
  if (!snapshot) {
    throw new Error(`no final snapshot in ${JSON.stringify(result.output)}`);
  }
  return snapshot;
}

async function bucketTags(bucket: string) {
  const { TagSet } = await new S3Client({
    region: readStackEnv().awsRegion,
    forcePathStyle: true,
  }).send(new GetBucketTaggingCommand({ Bucket: bucket }));
  return Object.fromEntries((TagSet ?? []).map(t => [t.Key, t.Value]));
}

async function rdsInstanceExists(instanceId: string): Promise<boolean> {
  const answer = await new RDSClient({ region: readStackEnv().awsRegion })
    .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }))
    .catch(() => ({ DBInstances: [] }));
  return (answer.DBInstances ?? []).length > 0;
}

describe('restoring a decommissioned instance from its final snapshot and retained bucket', () => {
  const stamp = Date.now().toString(36);
  const name = `rs-${stamp}`;
  const newName = `rsn-${stamp}`;
  const names = defaultResourceNames(name);
  const artifact = new Uint8Array(randomBytes(64 * 1024));
  const artifactPath = () => `${experimentId}/${runId}/artifacts/model.bin`;
  let backend: StartedBackend;
  let token: string;
  let scaffolder: ScaffolderClient;
  let kc: KubeConfig;
  let experimentId: string;
  let runId: string;
  let snapshot: string;
  const timings: Record<string, number> = {};

  async function signedInClient(instance: string) {
    const login = await readAdminLogin(
      kc,
      resolveInstanceNames({ name: instance }).namespace,
      resolveInstanceNames({ name: instance }).authSecretName,
    );
    return new MlflowTrackingClient(
      `http://${instance}.mlflow.localhost`,
      15_000,
      login,
    );
  }

  /** What was logged before the decommission, read back through the instance's tracking URL. */
  async function expectRunAndArtifact(instance: string) {
    const client = await signedInClient(instance);
    const run = await client.getRun(runId);
    expect(run.info).toMatchObject({
      run_name: 'before-decommission',
      status: 'FINISHED',
    });
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.01' }]);
    expect(run.data.metrics).toEqual([
      expect.objectContaining({ key: 'loss', value: 0.25, step: 3 }),
    ]);
    const downloaded = await client.downloadArtifact(artifactPath());
    expect(downloaded.length).toBe(artifact.length);
    expect(sha256(downloaded)).toBe(sha256(artifact));
  }

  async function decommission(instance: string, timing: string) {
    const result = await scaffolder.runTemplate(
      DECOMMISSION,
      decommissionValues(instance),
      { timeoutMs: 900_000 },
    );
    mustComplete(result, `decommissioning ${instance}`);
    timings[timing] = result.durationMs;
    return finalSnapshotOf(result, instance);
  }

  beforeAll(async () => {
    const env = readStackEnv();
    kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    backend = await startBackend({
      configPaths: [env.appConfigPath],
      extraConfig: { mlflow: { catalog: { refreshIntervalSeconds: 5 } } },
    });
    token = await backend.guestToken();
    scaffolder = new ScaffolderClient(backend.baseUrl, token);
    for (const template of ['mlflow-production', 'mlflow-decommission']) {
      await waitForEntity(backend.baseUrl, token, {
        kind: 'template',
        name: template,
      });
    }
    const created = await scaffolder.runTemplate(CREATE, createValues(name), {
      timeoutMs: 900_000,
    });
    mustComplete(created, `creating ${name}`);
    timings.create = created.durationMs;

    const client = await signedInClient(name);
    experimentId = await client.createExperiment(`before-restore-${name}`);
    runId = (await client.createRun(experimentId, 'before-decommission')).info
      .run_id;
    await client.logBatch(runId, {
      params: { lr: '0.01' },
      metrics: [{ key: 'loss', value: 0.25, step: 3 }],
      tags: { stage: 'before' },
    });
    await client.uploadArtifact(artifactPath(), artifact);
    await client.finishRun(runId);

    // The catalog must know the instance before its decommission asks for the entity.
    await waitForEntity(backend.baseUrl, token, { kind: 'component', name });
    snapshot = await decommission(name, 'decommission');
  });

  afterAll(async () => {
    // For the template READMEs: how long each flow took on this stack.
    process.stdout.write(`restore timings (ms): ${JSON.stringify(timings)}\n`);
    await backend?.stop();
    await deleteInstanceResources(defaultResourceNames(newName));
    await deleteInstanceResources(names);
    const rds = new RDSClient({ region: readStackEnv().awsRegion });
    for (const instance of [name, newName]) {
      const { DBSnapshots } = await rds.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: defaultResourceNames(instance).rdsInstanceId,
          SnapshotType: 'manual',
        }),
      );
      for (const s of DBSnapshots ?? []) {
        await rds
          .send(
            new DeleteDBSnapshotCommand({
              DBSnapshotIdentifier: s.DBSnapshotIdentifier,
            }),
          )
          .catch(() => undefined);
      }
    }
  });

  it("refuses to restore another owner's snapshot or retained bucket, before any change (confused deputy)", async () => {
    const mallory = new ScaffolderClient(
      backend.baseUrl,
      await devUserToken(backend.baseUrl, 'user:default/mallory'),
    );
    const theirs = `rsm-${stamp}`;
    const bucketBefore = await bucketTags(names.bucket);
    const result = await mallory.runTemplate(
      CREATE,
      {
        ...createValues(theirs),
        owner: 'user:default/mallory',
        restoreFromSnapshot: snapshot,
        retainedBucket: names.bucket,
      },
      { timeoutMs: 300_000 },
    );
    expect(result.status).toBe('failed');
    expect(result.log.at(-1)).toMatch(
      /user:default\/mallory may not change MLflow instance .*owned by group:default\/guests/,
    );
    expect(
      await rdsInstanceExists(defaultResourceNames(theirs).rdsInstanceId),
    ).toBe(false);
    expect(await bucketTags(names.bucket)).toEqual(bucketBefore);
  });

  it('restores under the same name: the run and the artifact logged before the decommission, byte for byte', async () => {
    expect(await bucketTags(names.bucket)).toMatchObject({
      'stateful-mlflow/instance': name,
      'stateful-mlflow/retained-until':
        expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
    const restored = await scaffolder.runTemplate(
      CREATE,
      { ...createValues(name), restoreFromSnapshot: snapshot },
      { timeoutMs: 900_000 },
    );
    expectCompleted(restored);
    timings.restoreSameName = restored.durationMs;
    expect(restored.log.join('\n')).toContain(
      `from snapshot ${snapshot} (MLflow instance ${name})`,
    );
    // The new admin Secret signs in although the restored sign-in database had the old admin.
    expect(restored.log.join('\n')).toMatch(
      /had user admin with another password/,
    );
    await expectRunAndArtifact(name);
    const tags = await bucketTags(names.bucket);
    expect(tags).toMatchObject({ 'stateful-mlflow/instance': name });
    expect(Object.keys(tags)).not.toContain('stateful-mlflow/retained');
    expect(Object.keys(tags)).not.toContain('stateful-mlflow/retained-until');
  });

  it('restores under a new name from the final snapshot and the retained bucket named on the form', async () => {
    await waitForEntity(backend.baseUrl, token, { kind: 'component', name });
    const second = await decommission(name, 'secondDecommission');
    const restored = await scaffolder.runTemplate(
      CREATE,
      {
        ...createValues(newName),
        restoreFromSnapshot: second,
        retainedBucket: names.bucket,
      },
      { timeoutMs: 900_000 },
    );
    expectCompleted(restored);
    timings.restoreNewName = restored.durationMs;
    expect(restored.log.join('\n')).toContain(
      `Restored from MLflow instance ${name}: renamed database`,
    );
    await expectRunAndArtifact(newName);
    const tags = await bucketTags(names.bucket);
    expect(tags).toMatchObject({ 'stateful-mlflow/instance': newName });
    expect(Object.keys(tags)).not.toContain('stateful-mlflow/retained');
  });
});
