import {
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockCredentials } from '@backstage/backend-test-utils';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { fakeModifiableRds } from '../__testUtils__/fakeRdsModify';
import { fakeAuthorization, testTenancy } from '../__testUtils__/tenancy';
import { createRdsModifyAction } from './rdsModify';

const rds = mockClient(RDSClient);

function action(authorization = testTenancy().authorization) {
  return createRdsModifyAction({
    aws: fakeAws,
    authorization,
    pollIntervalMs: 1,
  });
}

async function run(
  input: Record<string, unknown>,
  options: { isDryRun?: boolean; a?: ReturnType<typeof action> } = {},
) {
  const a = options.a ?? action();
  const recorded = createCheckpointingContext(a, {
    input: { name: 'demo', region: 'eu-west-1', ...input } as never,
    isDryRun: options.isDryRun,
  });
  await a.handler(recorded.ctx);
  return recorded;
}

const messages = (r: { logs: Array<{ message: string }> }) =>
  r.logs.map(l => l.message).join('\n');

describe('mlflow:rds:modify', () => {
  beforeEach(() => rds.reset());

  it('keeps a class change for the maintenance window and says so', async () => {
    const instance = fakeModifiableRds(rds);
    const r = await run({ instanceClass: 'db.t4g.small' });
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0].args[0].input).toEqual({
      DBInstanceIdentifier: 'mlflow-demo',
      ApplyImmediately: false,
      DBInstanceClass: 'db.t4g.small',
    });
    expect(instance.DBInstanceClass).toBe('db.t4g.micro');
    expect(r.outputs.changes).toEqual([
      'instance class db.t4g.micro → db.t4g.small (in the maintenance window)',
    ]);
    expect(r.outputs.pendingChanges).toEqual(['instance class db.t4g.small']);
    expect(messages(r)).toMatch(
      /Pending on RDS instance mlflow-demo until its maintenance window \(wed:06:38-wed:07:08\): instance class db.t4g.small/,
    );
    expect(r.executed).toEqual(['mlflow:rds:mlflow-demo:modify']);
  });

  it('applies at once when asked and waits, with the wait in the log', async () => {
    const instance = fakeModifiableRds(rds);
    const r = await run({
      backupRetentionDays: 14,
      allocatedStorageGiB: 30,
      applyImmediately: true,
    });
    expect(instance).toMatchObject({
      DBInstanceStatus: 'available',
      BackupRetentionPeriod: 14,
      AllocatedStorage: 30,
    });
    expect(r.outputs.changes).toEqual([
      'allocated storage (GiB) 20 → 30 (at once)',
      'backup retention (days) 7 → 14 (at once)',
    ]);
    expect(r.outputs).toMatchObject({
      status: 'available',
      pendingChanges: [],
    });
    expect(messages(r)).toMatch(
      /Waiting up to 1800s for RDS instance mlflow-demo to apply allocated storage \(GiB\), backup retention \(days\)/,
    );
    expect(messages(r)).toMatch(/Done waiting for RDS instance mlflow-demo/);
  });

  it('says when RDS applies a change at once although the window was chosen', async () => {
    fakeModifiableRds(rds);
    const r = await run({ backupRetentionDays: 10, deletionProtection: true });
    expect(r.outputs.changes).toEqual([
      'backup retention (days) 7 → 10 (at once: RDS applies a retention change between non-zero values immediately)',
      'deletion protection off → on (at once: RDS applies deletion protection immediately)',
    ]);
  });

  it('plans in dry-run without a change', async () => {
    fakeModifiableRds(rds);
    const r = await run(
      { instanceClass: 'db.t4g.small', allocatedStorageGiB: 40 },
      { isDryRun: true },
    );
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);
    expect(messages(r)).toMatch(
      /Plan RDS instance mlflow-demo \(maintenance window wed:06:38-wed:07:08\):\n- instance class db.t4g.micro → db.t4g.small \(in the maintenance window\)\n- allocated storage \(GiB\) 20 → 40 \(in the maintenance window\)/,
    );
    expect(r.outputs.status).toBe('dry-run');
  });

  it('changes nothing when the settings are there or pending already', async () => {
    const instance = fakeModifiableRds(rds);
    instance.PendingModifiedValues = { DBInstanceClass: 'db.t4g.small' };
    const r = await run({
      instanceClass: 'db.t4g.small',
      backupRetentionDays: 7,
    });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);
    expect(messages(r)).toMatch(/Nothing changes on RDS instance mlflow-demo/);
    expect(r.outputs.pendingChanges).toEqual(['instance class db.t4g.small']);
  });

  it('refuses bad values naming the field before any AWS call', async () => {
    fakeModifiableRds(rds);
    await expect(run({ instanceClass: 't4g.small' })).rejects.toThrow(
      /Invalid instanceClass \(RDS instance class\): received "t4g.small"/,
    );
    await expect(run({ backupRetentionDays: 0 })).rejects.toThrow(
      /Invalid backupRetentionDays \(backup retention \(days\)\): received 0, but it is below the minimum of 1/,
    );
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toEqual([]);
  });

  it("refuses what RDS or prod would refuse, from the instance's state", async () => {
    fakeModifiableRds(rds, { environment: 'prod' });
    await expect(run({ allocatedStorageGiB: 21 })).rejects.toThrow(
      /Invalid allocatedStorageGiB: received 21, but RDS grows storage by at least 10 % \(today 20 GiB, so at least 22 GiB\)/,
    );
    await expect(run({ backupRetentionDays: 3 })).rejects.toThrow(
      /Invalid backupRetentionDays: received 3, but the instance is a prod instance/,
    );
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);
  });

  it('turns deletion protection off only as an explicit, logged choice', async () => {
    const instance = fakeModifiableRds(rds, { deletionProtection: true });
    await expect(run({ deletionProtection: false })).rejects.toThrow(
      /Invalid deletionProtection: received false, but RDS instance mlflow-demo has deletion protection on. Nothing was changed. Set liftDeletionProtection/,
    );
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);
    const r = await run({
      deletionProtection: false,
      liftDeletionProtection: true,
    });
    expect(instance.DeletionProtection).toBe(false);
    expect(
      r.logs.find(l => l.level === 'warn' && /Turning off/.test(l.message))
        ?.message,
    ).toBe(
      'Turning off the deletion protection of RDS instance mlflow-demo, as user:default/mock asked (liftDeletionProtection: true)',
    );
  });

  it("refuses another instance's RDS instance and a non-owner before any change", async () => {
    fakeModifiableRds(rds, {
      tags: [{ Key: 'stateful-mlflow/instance', Value: 'other' }],
    });
    await expect(run({ instanceClass: 'db.t4g.small' })).rejects.toThrow(
      /was not created for MLflow instance "demo" .*Nothing was changed/,
    );
    rds.reset();
    fakeModifiableRds(rds);
    const a = action(fakeAuthorization());
    const recorded = createCheckpointingContext(a, {
      input: {
        name: 'demo',
        region: 'eu-west-1',
        instanceClass: 'db.t4g.small',
      },
    });
    recorded.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(a.handler(recorded.ctx)).rejects.toThrow(
      /user:default\/mallory may not .*owned by user:default\/mock/,
    );
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);
  });
});
