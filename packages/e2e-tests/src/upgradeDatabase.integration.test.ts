import {
  ApplyPendingMaintenanceActionCommand,
  DBInstance,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { readStackEnv } from '@internal/stack-env';
import {
  MlflowDatabaseDetails,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { waitForEntity } from './lib/catalogEntities';
import { eventually } from './lib/eventually';
import {
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
import {
  assertTaskCompleted,
  ScaffolderClient,
  TASK_COMPLETED,
  taskOutcome,
} from './lib/scaffolderClient';
import { StartedBackend, startStackBackend } from './lib/startBackend';
import { devInstanceValues } from './lib/templateValues';

jest.setTimeout(2_400_000);

const CREATE = 'template:default/mlflow-production';
const UPGRADE = 'template:default/mlflow-upgrade';

/**
 * The upgrade template's database changes on the stack: the instance class in the maintenance
 * window (pending in RDS, in the health API and so on the card), then the window arrives; backup
 * retention at once.
 */
describe('the mlflow-upgrade template changes the database on the local stack', () => {
  const name = `ud-${Date.now().toString(36)}`;
  const names = defaultResourceNames(name);
  let backend: StartedBackend;
  let scaffolder: ScaffolderClient;
  let token: string;
  let rds: RDSClient;
  const timings: Record<string, number> = {};

  const readInstance = async (): Promise<DBInstance> => {
    const { DBInstances } = await rds.send(
      new DescribeDBInstancesCommand({
        DBInstanceIdentifier: names.rdsInstanceId,
      }),
    );
    return DBInstances![0];
  };

  /** The single-entity report, checked afresh (the refresh is rate-limited: retried until taken). */
  const freshReport = async (
    expectDatabase: (details: MlflowDatabaseDetails) => void,
  ) =>
    eventually(
      async () => {
        const res = await fetch(
          `${backend.baseUrl}/api/mlflow/v1/health/default/component/${name}?refresh=true`,
          { headers: { Authorization: `Bearer ${token}` } },
        );
        const report = (await res.json()) as MlflowHealthReport;
        const details = report.checks.find(c => c.id === 'database')
          ?.details as MlflowDatabaseDetails;
        expectDatabase(details);
        return details;
      },
      { timeoutMs: 90_000, intervalMs: 3_000 },
    );

  beforeAll(async () => {
    rds = new RDSClient({ region: readStackEnv().awsRegion });
    ({ backend, token, scaffolder } = await startStackBackend({
      templates: ['mlflow-production', 'mlflow-upgrade'],
    }));
    const created = await scaffolder.runTemplate(
      CREATE,
      devInstanceValues(name, {
        image: 'ghcr.io/acme/mlflow:v3.17.2',
        instanceClass: 'db.t4g.micro',
        backupRetentionDays: 7,
      }),
      { timeoutMs: 900_000 },
    );
    assertTaskCompleted(created, 'create');
    timings.create = created.durationMs;
    await waitForEntity(backend.baseUrl, token, {
      kind: 'component',
      name,
    });
  });

  afterAll(async () => {
    // For the template README: how long each flow took on this stack.
    process.stdout.write(
      `upgrade database timings (ms): ${JSON.stringify(timings)}\n`,
    );
    await backend?.stop();
    await deleteInstanceResources(names);
  });

  it('changes the instance class in the maintenance window: pending in RDS and on the card, applied when the window comes', async () => {
    const inWindow = await scaffolder.runTemplate(
      UPGRADE,
      { name, cluster: 'local', instanceClass: 'db.t4g.small' },
      { timeoutMs: 900_000 },
    );
    timings.classInWindow = inWindow.durationMs;
    expect(taskOutcome(inWindow, 8)).toEqual(TASK_COMPLETED);
    const planned = inWindow.log.findIndex(l =>
      l.includes(
        'instance class db.t4g.micro → db.t4g.small (in the maintenance window)',
      ),
    );
    const asked = inWindow.log.findIndex(l =>
      l.includes(`Asking RDS to modify instance ${names.rdsInstanceId}`),
    );
    expect(planned).toBeGreaterThanOrEqual(0);
    expect(asked).toBeGreaterThan(planned);
    expect(await readInstance()).toMatchObject({
      DBInstanceClass: 'db.t4g.micro',
      PendingModifiedValues: { DBInstanceClass: 'db.t4g.small' },
    });
    const pending = await freshReport(details =>
      expect(details.pendingChanges).toEqual([
        {
          setting: 'instance class',
          current: 'db.t4g.micro',
          pending: 'db.t4g.small',
        },
      ]),
    );
    expect(pending.lastSnapshot).toMatchObject({ id: expect.any(String) });

    // The maintenance window arrives (the stack applies pending changes on this call).
    const windowStarted = Date.now();
    await rds.send(
      new ApplyPendingMaintenanceActionCommand({
        ResourceIdentifier: (await readInstance()).DBInstanceArn,
        ApplyAction: 'system-update',
        OptInType: 'immediate',
      }),
    );
    await eventually(
      async () =>
        expect(await readInstance()).toMatchObject({
          DBInstanceClass: 'db.t4g.small',
          DBInstanceStatus: 'available',
        }),
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    timings.windowApplied = Date.now() - windowStarted;
    expect((await readInstance()).PendingModifiedValues ?? {}).toEqual({});
    await freshReport(details => {
      expect(details.instanceClass).toBe('db.t4g.small');
      expect(details.pendingChanges).toBeUndefined();
    });
  });

  it('changes backup retention at once and waits for it', async () => {
    const now = await scaffolder.runTemplate(
      UPGRADE,
      {
        name,
        cluster: 'local',
        backupRetentionDays: 14,
        applyImmediately: true,
      },
      { timeoutMs: 900_000 },
    );
    timings.retentionNow = now.durationMs;
    expect(taskOutcome(now, 8)).toEqual(TASK_COMPLETED);
    expect(
      now.log.some(l => l.includes('backup retention (days) 7 → 14 (at once)')),
    ).toBe(true);
    expect(
      now.log.some(l =>
        l.includes(`Done waiting for RDS instance ${names.rdsInstanceId}`),
      ),
    ).toBe(true);
    expect(await readInstance()).toMatchObject({
      BackupRetentionPeriod: 14,
      DBInstanceStatus: 'available',
    });
    await freshReport(details => {
      expect(details.backupRetentionDays).toBe(14);
      expect(details.pendingChanges).toBeUndefined();
    });
  });
});
