import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockCredentials } from '@backstage/backend-test-utils';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  fakeAuthorization,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';
import { createRdsSnapshotAction } from './rdsSnapshot';

const rds = mockClient(RDSClient);

const ours = (name: string) => [
  { Key: 'stateful-mlflow/instance', Value: name },
  { Key: 'owner', Value: MOCK_USER },
];

/** A small RDS whose snapshots are `creating` for `pollsUntilAvailable` looks, then available. */
function fakeRds(
  options: {
    tags?: Array<{ Key: string; Value: string }>;
    pollsUntilAvailable?: number;
    snapshotStatus?: string;
  } = {},
) {
  const snapshots = new Map<
    string,
    {
      DBSnapshotIdentifier: string;
      DBInstanceIdentifier: string;
      looks: number;
    }
  >();
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'mlflow-demo',
        DBInstanceStatus: 'available',
        TagList: options.tags ?? ours('demo'),
      },
    ],
  });
  rds.on(CreateDBSnapshotCommand).callsFake(async input => {
    snapshots.set(input.DBSnapshotIdentifier, {
      DBSnapshotIdentifier: input.DBSnapshotIdentifier,
      DBInstanceIdentifier: input.DBInstanceIdentifier,
      looks: 0,
    });
    return {};
  });
  rds.on(DescribeDBSnapshotsCommand).callsFake(async input => {
    const found = snapshots.get(input.DBSnapshotIdentifier);
    if (!found) {
      throw awsError('DBSnapshotNotFound', 404);
    }
    found.looks += 1;
    const available = found.looks > (options.pollsUntilAvailable ?? 2);
    return {
      DBSnapshots: [
        {
          DBSnapshotIdentifier: found.DBSnapshotIdentifier,
          DBInstanceIdentifier: found.DBInstanceIdentifier,
          DBSnapshotArn: `arn:aws:rds:eu-west-1:123456789012:snapshot:${found.DBSnapshotIdentifier}`,
          Status:
            options.snapshotStatus ?? (available ? 'available' : 'creating'),
        },
      ],
    };
  });
  return snapshots;
}

function action(authorization = testTenancy().authorization) {
  return createRdsSnapshotAction({
    aws: fakeAws,
    authorization,
    pollIntervalMs: 1,
  });
}

const input = { name: 'demo', region: 'eu-west-1', purpose: 'pre-upgrade' };

describe('mlflow:rds:snapshot', () => {
  beforeEach(() => rds.reset());

  it('takes a tagged snapshot and returns only once it is available, naming it in the log', async () => {
    fakeRds({ pollsUntilAvailable: 3 });
    const a = action();
    const run = createCheckpointingContext(a, { input });
    await a.handler(run.ctx);
    const [created] = rds.commandCalls(CreateDBSnapshotCommand);
    expect(created.args[0].input).toEqual({
      DBInstanceIdentifier: 'mlflow-demo',
      DBSnapshotIdentifier: expect.stringMatching(
        /^mlflow-demo-pre-upgrade-\d{8}t\d{6}z$/,
      ),
      Tags: ours('demo'),
    });
    const snapshotId = created.args[0].input.DBSnapshotIdentifier;
    expect(run.outputs).toEqual({
      instanceId: 'mlflow-demo',
      snapshotId,
      snapshotArn: `arn:aws:rds:eu-west-1:123456789012:snapshot:${snapshotId}`,
      status: 'available',
    });
    expect(run.logs.map(l => l.message)).toContainEqual(
      expect.stringContaining(
        `Snapshot ${snapshotId} of RDS instance mlflow-demo is available`,
      ),
    );
  });

  it('fails naming the snapshot when it fails', async () => {
    fakeRds({ snapshotStatus: 'failed' });
    const a = action();
    const run = createCheckpointingContext(a, { input });
    await expect(a.handler(run.ctx)).rejects.toThrow(
      /RDS snapshot mlflow-demo-pre-upgrade-\d{8}t\d{6}z failed/,
    );
  });

  it('a recovered run waits for the snapshot it started instead of taking another', async () => {
    fakeRds();
    const a = action();
    const first = createCheckpointingContext(a, { input });
    await a.handler(first.ctx);
    const recovered = createCheckpointingContext(a, {
      input,
      store: first.store,
    });
    await a.handler(recovered.ctx);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(1);
    expect(recovered.outputs.snapshotId).toBe(first.outputs.snapshotId);
  });

  it('refuses a bad purpose before any call', async () => {
    fakeRds();
    const a = action();
    const run = createCheckpointingContext(a, {
      input: { ...input, purpose: 'Before Upgrade' },
    });
    await expect(a.handler(run.ctx)).rejects.toThrow(
      'Invalid purpose: received "Before Upgrade". Accepted: lower-case letters',
    );
    expect(rds.calls()).toEqual([]);
  });

  it("refuses an RDS instance that is not the instance's, taking nothing", async () => {
    fakeRds({ tags: [{ Key: 'team', Value: 'other' }] });
    const a = action();
    const run = createCheckpointingContext(a, { input });
    await expect(a.handler(run.ctx)).rejects.toThrow(
      /Invalid instanceId: received "mlflow-demo", but that RDS instance was not created for MLflow instance "demo"/,
    );
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toEqual([]);
  });

  it('refuses a non-owner naming the owner, taking nothing', async () => {
    fakeRds();
    const a = action(fakeAuthorization());
    const run = createCheckpointingContext(a, { input });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(a.handler(run.ctx)).rejects.toThrow(
      /user:default\/mallory may not .*owned by user:default\/mock/,
    );
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toEqual([]);
  });

  it('plans in dry-run without a snapshot', async () => {
    fakeRds();
    const a = action();
    const run = createCheckpointingContext(a, { input, isDryRun: true });
    await a.handler(run.ctx);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toEqual([]);
    expect(run.outputs).toMatchObject({
      snapshotId: 'mlflow-demo-pre-upgrade-dry-run',
      status: 'dry-run',
    });
  });
});
