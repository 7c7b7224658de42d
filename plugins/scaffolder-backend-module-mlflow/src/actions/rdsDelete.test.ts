import {
  DeleteDBInstanceCommand,
  DeleteDBParameterGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockCredentials } from '@backstage/backend-test-utils';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  fakeAuthorization,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';
import { createRdsDeleteAction } from './rdsDelete';

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const secrets = mockClient(SecretsManagerClient);

const ours = (name: string) => [
  { Key: 'stateful-mlflow/instance', Value: name },
  { Key: 'owner', Value: MOCK_USER },
];

/** A small RDS: the instance goes away on DeleteDBInstance, its final snapshot becomes available. */
function fakeRds(
  options: {
    deletionProtection?: boolean;
    tags?: Array<{ Key: string; Value: string }>;
  } = {},
) {
  let instance: Record<string, unknown> | undefined = {
    DBInstanceIdentifier: 'mlflow-demo',
    DBInstanceStatus: 'available',
    DeletionProtection: options.deletionProtection ?? false,
    TagList: options.tags ?? ours('demo'),
  };
  let snapshot: string | undefined;
  rds.on(DescribeDBInstancesCommand).callsFake(async () => {
    if (!instance) {
      throw awsError('DBInstanceNotFoundFault', 404);
    }
    return { DBInstances: [instance] };
  });
  rds.on(ModifyDBInstanceCommand).callsFake(async () => {
    instance = { ...instance, DeletionProtection: false };
    return {};
  });
  rds.on(DeleteDBInstanceCommand).callsFake(async input => {
    if (instance?.DeletionProtection) {
      throw awsError('InvalidParameterCombination', 400);
    }
    snapshot = input.FinalDBSnapshotIdentifier;
    instance = undefined;
    return {};
  });
  rds.on(DescribeDBSnapshotsCommand).callsFake(async input => {
    const all = snapshot
      ? [
          {
            DBSnapshotIdentifier: snapshot,
            Status: 'available',
            SnapshotType: 'manual',
          },
        ]
      : [];
    const found = input.DBSnapshotIdentifier
      ? all.filter(s => s.DBSnapshotIdentifier === input.DBSnapshotIdentifier)
      : all;
    if (input.DBSnapshotIdentifier && found.length === 0) {
      throw awsError('DBSnapshotNotFound', 404);
    }
    return { DBSnapshots: found };
  });
  rds.on(DescribeDBParameterGroupsCommand).resolves({
    DBParameterGroups: [
      {
        DBParameterGroupName: 'mlflow-demo-postgres17',
        DBParameterGroupArn: 'arn:pg:demo',
      },
      {
        DBParameterGroupName: 'mlflow-demo-postgres16',
        DBParameterGroupArn: 'arn:pg:foreign',
      },
      {
        DBParameterGroupName: 'mlflow-other-postgres17',
        DBParameterGroupArn: 'arn:pg:other',
      },
    ],
  });
  rds
    .on(ListTagsForResourceCommand, { ResourceName: 'arn:pg:demo' })
    .resolves({ TagList: ours('demo') })
    .on(ListTagsForResourceCommand, { ResourceName: 'arn:pg:foreign' })
    .resolves({ TagList: [] });
  rds.on(DeleteDBParameterGroupCommand).resolves({});
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      {
        GroupId: 'sg-0123456789abcdef0',
        GroupName: 'mlflow-demo-postgres',
        Tags: ours('demo'),
      },
    ],
  });
  ec2.on(DeleteSecurityGroupCommand).resolves({});
  secrets.on(DescribeSecretCommand).resolves({
    ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/demo/database',
    Tags: ours('demo'),
  });
  secrets.on(DeleteSecretCommand).resolves({});
  return { snapshot: () => snapshot };
}

function action(authorization = testTenancy().authorization) {
  return createRdsDeleteAction({
    aws: fakeAws,
    authorization,
    pollIntervalMs: 1,
  });
}

describe('mlflow:rds:delete', () => {
  beforeEach(() => {
    rds.reset();
    ec2.reset();
    secrets.reset();
  });

  it('deletes the instance after a final snapshot, then its groups and secret copy, never foreign ones', async () => {
    const state = fakeRds();
    const a = action();
    const run = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
    });
    await a.handler(run.ctx);
    const [deletion] = rds.commandCalls(DeleteDBInstanceCommand);
    expect(deletion.args[0].input).toMatchObject({
      DBInstanceIdentifier: 'mlflow-demo',
      SkipFinalSnapshot: false,
      FinalDBSnapshotIdentifier: expect.stringMatching(
        /^mlflow-demo-final-\d{8}t\d{6}z$/,
      ),
    });
    expect(run.outputs).toEqual({
      instanceId: 'mlflow-demo',
      finalSnapshotId: state.snapshot(),
      deletionProtectionLifted: false,
    });
    expect(
      rds.commandCalls(DeleteDBParameterGroupCommand).map(c => c.args[0].input),
    ).toEqual([{ DBParameterGroupName: 'mlflow-demo-postgres17' }]);
    expect(
      ec2.commandCalls(DeleteSecurityGroupCommand)[0].args[0].input,
    ).toEqual({
      GroupId: 'sg-0123456789abcdef0',
    });
    expect(
      secrets.commandCalls(DeleteSecretCommand)[0].args[0].input,
    ).toMatchObject({
      SecretId: 'mlflow/demo/database',
    });
  });

  it('on a rerun after the deletion reports the final snapshot and deletes nothing', async () => {
    const state = fakeRds();
    const a = action();
    await a.handler(
      createCheckpointingContext(a, {
        input: { name: 'demo', region: 'eu-west-1' },
      }).ctx,
    );
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    rds
      .on(DescribeDBParameterGroupsCommand)
      .resolves({ DBParameterGroups: [] });
    secrets
      .on(DescribeSecretCommand)
      .rejects(awsError('ResourceNotFoundException', 400));
    const again = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
    });
    await a.handler(again.ctx);
    expect(again.executed).toEqual([]);
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toHaveLength(1);
    expect(again.outputs.finalSnapshotId).toBe(state.snapshot());
  });

  it('refuses a protected instance unless the owner lifts the protection, then logs who lifted it', async () => {
    fakeRds({ deletionProtection: true });
    const a = action();
    const refused = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
    });
    await expect(a.handler(refused.ctx)).rejects.toThrow(
      /Invalid liftDeletionProtection: received false, but RDS instance mlflow-demo has deletion protection on. Nothing was deleted/,
    );
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toEqual([]);

    const lifted = createCheckpointingContext(a, {
      input: {
        name: 'demo',
        region: 'eu-west-1',
        liftDeletionProtection: true,
      },
    });
    await a.handler(lifted.ctx);
    expect(
      rds.commandCalls(ModifyDBInstanceCommand)[0].args[0].input,
    ).toMatchObject({
      DeletionProtection: false,
    });
    expect(lifted.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringContaining(
          `as ${MOCK_USER} asked (liftDeletionProtection: true)`,
        ),
      }),
    );
    expect(lifted.outputs.deletionProtectionLifted).toBe(true);
  });

  it('refuses an RDS instance not created for the instance, deleting nothing', async () => {
    fakeRds({ tags: [{ Key: 'team', Value: 'other' }] });
    const a = action();
    const run = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
    });
    await expect(a.handler(run.ctx)).rejects.toThrow(
      /Invalid instanceId: received "mlflow-demo", but that RDS instance was not created for MLflow instance "demo"/,
    );
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toEqual([]);
  });

  it('refuses a member of no owning group before any change', async () => {
    fakeRds();
    const a = action(fakeAuthorization());
    const run = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
    });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(a.handler(run.ctx)).rejects.toThrow(
      /user:default\/mallory may not decommission .*owned by user:default\/mock/,
    );
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toEqual([]);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toEqual([]);
  });

  it('a recovered run does not delete again, and finds the snapshot it chose', async () => {
    const state = fakeRds();
    const a = action();
    const first = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
    });
    await a.handler(first.ctx);
    const recovered = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
      store: first.store,
    });
    await a.handler(recovered.ctx);
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toHaveLength(1);
    expect(recovered.outputs.finalSnapshotId).toBe(state.snapshot());
  });

  it('plans in dry-run without a change', async () => {
    fakeRds();
    const a = action();
    const run = createCheckpointingContext(a, {
      input: { name: 'demo', region: 'eu-west-1' },
      isDryRun: true,
    });
    await a.handler(run.ctx);
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toEqual([]);
    expect(run.logs.map(l => l.message).join('\n')).toMatch(
      /Plan for RDS: delete RDS instance mlflow-demo after a final snapshot .*delete security group mlflow-demo-postgres.*delete parameter group mlflow-demo-postgres17; delete Secrets Manager secret mlflow\/demo\/database/,
    );
  });
});
