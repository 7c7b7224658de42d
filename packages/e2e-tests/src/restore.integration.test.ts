import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { KubeConfig } from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { randomBytes } from 'node:crypto';
import { waitForEntity } from './lib/catalogEntities';
import { devUserToken } from './lib/devUsers';
import {
  defaultResourceNames,
  deleteInstanceResources,
  deleteManualSnapshots,
} from './lib/instanceResources';
import {
  adminTrackingClient,
  logRunWithArtifact,
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
import { decommissionValues, devInstanceValues } from './lib/templateValues';

jest.setTimeout(3_600_000);

const CREATE = 'template:default/mlflow-production';
const DECOMMISSION = 'template:default/mlflow-decommission';

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
  let backend: StartedBackend;
  let token: string;
  let scaffolder: ScaffolderClient;
  let kc: KubeConfig;
  let runId: string;
  let artifactPath: string;
  let snapshot: string;
  const timings: Record<string, number> = {};

  /** What was logged before the decommission, read back through the instance's tracking URL. */
  async function expectRunAndArtifact(instance: string) {
    const { client } = await adminTrackingClient(kc, instance);
    const run = await client.getRun(runId);
    expect(run.info).toMatchObject({
      run_name: 'before-decommission',
      status: 'FINISHED',
    });
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.01' }]);
    expect(run.data.metrics).toEqual([
      expect.objectContaining({ key: 'loss', value: 0.25, step: 3 }),
    ]);
    const downloaded = await client.downloadArtifact(artifactPath);
    expect(downloaded.length).toBe(artifact.length);
    expect(sha256(downloaded)).toBe(sha256(artifact));
  }

  async function decommission(instance: string, timing: string) {
    const result = await scaffolder.runTemplate(
      DECOMMISSION,
      decommissionValues(instance),
      { timeoutMs: 900_000 },
    );
    assertTaskCompleted(result, `decommissioning ${instance}`);
    timings[timing] = result.durationMs;
    return finalSnapshotOf(result, instance);
  }

  beforeAll(async () => {
    kc = new KubeConfig();
    kc.loadFromFile(readStackEnv().kubeconfig);
    ({ backend, token, scaffolder } = await startStackBackend({
      templates: ['mlflow-production', 'mlflow-decommission'],
      catalogRefreshSeconds: 5,
    }));
    const created = await scaffolder.runTemplate(
      CREATE,
      devInstanceValues(name),
      { timeoutMs: 900_000 },
    );
    assertTaskCompleted(created, `creating ${name}`);
    timings.create = created.durationMs;

    const { client } = await adminTrackingClient(kc, name);
    ({ runId, artifactPath } = await logRunWithArtifact(
      client,
      `before-restore-${name}`,
      'before-decommission',
      artifact,
    ));

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
    for (const instance of [name, newName]) {
      await deleteManualSnapshots(defaultResourceNames(instance).rdsInstanceId);
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
        ...devInstanceValues(theirs),
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
      { ...devInstanceValues(name), restoreFromSnapshot: snapshot },
      { timeoutMs: 900_000 },
    );
    expect(taskOutcome(restored, 8)).toEqual(TASK_COMPLETED);
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
        ...devInstanceValues(newName),
        restoreFromSnapshot: second,
        retainedBucket: names.bucket,
      },
      { timeoutMs: 900_000 },
    );
    expect(taskOutcome(restored, 8)).toEqual(TASK_COMPLETED);
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
