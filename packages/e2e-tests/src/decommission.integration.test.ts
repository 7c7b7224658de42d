import {
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { getEntity, waitForEntity } from './lib/catalogEntities';
import { devUserToken } from './lib/devUsers';
import { instanceDatabaseAsSuperuser } from './lib/instanceDatabase';
import {
  defaultResourceNames,
  deleteInstanceResources,
  deleteManualSnapshots,
  instanceResources,
} from './lib/instanceResources';
import {
  assertTaskCompleted,
  ScaffolderClient,
  TASK_COMPLETED,
  taskOutcome,
} from './lib/scaffolderClient';
import { StartedBackend, startStackBackend } from './lib/startBackend';
import { decommissionValues, devInstanceValues } from './lib/templateValues';

jest.setTimeout(2_400_000);

const CREATE = 'template:default/mlflow-production';
const DECOMMISSION = 'template:default/mlflow-decommission';

/** Everything of an instance on moto and the apiserver, by its names, with the details compared. */
async function fullInventory(name: string) {
  const names = defaultResourceNames(name);
  const { awsRegion: region, kubeconfig } = readStackEnv();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const rds = new RDSClient({ region });
  const [instance] =
    (
      await rds
        .send(
          new DescribeDBInstancesCommand({
            DBInstanceIdentifier: names.rdsInstanceId,
          }),
        )
        .catch(() => ({ DBInstances: [] }))
    ).DBInstances ?? [];
  const snapshots = (
    await rds.send(
      new DescribeDBSnapshotsCommand({
        DBInstanceIdentifier: names.rdsInstanceId,
        SnapshotType: 'manual',
      }),
    )
  ).DBSnapshots?.map(s => `${s.DBSnapshotIdentifier}:${s.Status}`);
  const bucketTags = await new S3Client({ region, forcePathStyle: true })
    .send(new GetBucketTaggingCommand({ Bucket: names.bucket }))
    .then(r => Object.fromEntries((r.TagSet ?? []).map(t => [t.Key, t.Value])))
    .catch(() => undefined);
  const secrets = await core
    .listNamespacedSecret({ namespace: names.namespace })
    .then(r =>
      r.items
        .map(s => `${s.metadata?.name}@${s.metadata?.resourceVersion}`)
        .sort(),
    )
    .catch(() => []);
  return {
    resources: await instanceResources(names),
    rdsStatus: instance?.DBInstanceStatus,
    snapshots: snapshots ?? [],
    bucketTags,
    secrets,
  };
}

describe('the mlflow-decommission template on the local stack', () => {
  const stamp = Date.now().toString(36);
  const victim = `dc-${stamp}`;
  const bystander = `dcb-${stamp}`;
  let backend: StartedBackend;
  let token: string;
  let scaffolder: ScaffolderClient;
  let bystanderBefore: Awaited<ReturnType<typeof fullInventory>>;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    ({ backend, token, scaffolder } = await startStackBackend({
      templates: ['mlflow-production', 'mlflow-decommission'],
      catalogRefreshSeconds: 5,
    }));
    const created = await Promise.all(
      [victim, bystander].map(name =>
        scaffolder.runTemplate(CREATE, devInstanceValues(name), {
          timeoutMs: 900_000,
        }),
      ),
    );
    for (const result of created) {
      assertTaskCompleted(result, 'Creating an instance', 5);
    }
    await waitForEntity(backend.baseUrl, token, {
      kind: 'component',
      name: victim,
    });
    bystanderBefore = await fullInventory(bystander);
  });

  afterAll(async () => {
    // Timings for the template README.
    // eslint-disable-next-line no-console
    console.log(`decommission timings (ms): ${JSON.stringify(timings)}`);
    await backend?.stop();
    await deleteInstanceResources(defaultResourceNames(victim));
    await deleteInstanceResources(defaultResourceNames(bystander));
    // The final snapshots this test made (their dumps hold the instance's data).
    await deleteManualSnapshots(defaultResourceNames(victim).rdsInstanceId);
  });

  it('refuses a non-owner before any change, naming the owner', async () => {
    const before = await fullInventory(victim);
    const mallory = new ScaffolderClient(
      backend.baseUrl,
      await devUserToken(backend.baseUrl, 'user:default/mallory'),
    );
    const result = await mallory.runTemplate(
      DECOMMISSION,
      decommissionValues(victim),
      {
        timeoutMs: 300_000,
      },
    );
    expect(result.status).toBe('failed');
    expect(result.log.at(-1)).toMatch(
      /user:default\/mallory may not decommission .*owned by group:default\/guests/,
    );
    expect(await fullInventory(victim)).toEqual(before);
  });

  it('refuses a confirmation that is not the name, before anything', async () => {
    const before = await fullInventory(victim);
    const result = await scaffolder.runTemplate(
      DECOMMISSION,
      { ...decommissionValues(victim), confirmName: `${victim}x` },
      { timeoutMs: 300_000 },
    );
    expect(result.status).toBe('failed');
    expect(result.log.at(-1)).toMatch(/Invalid confirmName: received "dc-.*x"/);
    expect(await fullInventory(victim)).toEqual(before);
  });

  it('finishes, when run again, a run whose backend was killed in the middle, leaving only the final snapshot and the retained bucket', async () => {
    const started = Date.now();
    // The stack's final snapshot is a pg_dumpall of the instance's PostgreSQL, which waits for
    // this lock: while the test holds it the run is parked in the snapshot wait, after the RDS
    // deletion and before the IAM role's step, however fast or slow the machine is.
    const dumpBlocker = await instanceDatabaseAsSuperuser(victim);
    let middle: Awaited<ReturnType<typeof fullInventory>>;
    try {
      await dumpBlocker.query('BEGIN');
      await dumpBlocker.query(
        'LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE',
      );
      const taskId = await scaffolder.createTask(
        DECOMMISSION,
        decommissionValues(victim),
      );
      let killed: Promise<void> | undefined;
      // SIGKILL in the snapshot wait: no shutdown hook, no step finishes after it.
      await expect(
        scaffolder.waitForTask(taskId, {
          timeoutMs: 900_000,
          onLog: message => {
            if (
              !killed &&
              /: Waiting up to \d+s for RDS snapshot \S+ to become available/.test(
                message,
              )
            ) {
              killed = backend.kill();
            }
          },
        }),
      ).rejects.toThrow();
      await killed;
      timings.killedRunMs = Date.now() - started;
      middle = await fullInventory(victim);
    } finally {
      await dumpBlocker.query('ROLLBACK');
      await dumpBlocker.end();
    }
    // Killed in the middle: the server and the RDS instance are gone, the final snapshot is
    // still being made, the IAM role (a later step) is there.
    expect(middle.resources).toMatchObject({
      rdsInstances: [],
      namespaces: [],
      roles: [defaultResourceNames(victim).roleName],
    });
    expect(middle.snapshots).toEqual([
      expect.stringMatching(new RegExp(`^mlflow-${victim}-final-.*:creating$`)),
    ]);

    ({ backend, token, scaffolder } = await startStackBackend({
      templates: ['mlflow-decommission'],
      catalogRefreshSeconds: 5,
    }));
    const resumedStart = Date.now();
    const resumed = await scaffolder.runTemplate(
      DECOMMISSION,
      decommissionValues(victim),
      { timeoutMs: 900_000 },
    );
    expect(taskOutcome(resumed)).toEqual(TASK_COMPLETED);
    timings.resumedRunMs = Date.now() - resumedStart;

    const after = await fullInventory(victim);
    expect(after.resources).toEqual({
      rdsInstances: [],
      buckets: [defaultResourceNames(victim).bucket],
      roles: [],
      namespaces: [],
      deployments: [],
    });
    expect(after.snapshots).toEqual([
      expect.stringMatching(
        new RegExp(`^mlflow-${victim}-final-.*:available$`),
      ),
    ]);
    expect(after.bucketTags).toMatchObject({
      'stateful-mlflow/instance': victim,
      'stateful-mlflow/retained-until':
        expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
    expect(
      await getEntity(backend.baseUrl, token, {
        kind: 'component',
        name: victim,
      }),
    ).toBeUndefined();
    expect(
      await getEntity(backend.baseUrl, token, {
        kind: 'resource',
        name: `${victim}-db`,
      }),
    ).toBeUndefined();
  });

  it('changes nothing when run again', async () => {
    const before = await fullInventory(victim);
    const started = Date.now();
    const again = await scaffolder.runTemplate(
      DECOMMISSION,
      decommissionValues(victim),
      {
        timeoutMs: 600_000,
      },
    );
    expect(taskOutcome(again)).toEqual(TASK_COMPLETED);
    timings.secondRunMs = Date.now() - started;
    // Log lines carry their level first ("info: Deleting …").
    expect(
      again.log.filter(l => /: (Deleting|Tagging|Lifting|Removing) /.test(l)),
    ).toEqual([]);
    expect(await fullInventory(victim)).toEqual(before);
  });

  it('leaves another instance on the same stack untouched', async () => {
    expect(await fullInventory(bystander)).toEqual(bystanderBefore);
    expect(
      await getEntity(backend.baseUrl, token, {
        kind: 'component',
        name: bystander,
      }),
    ).toBeDefined();
  });
});
