import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import {
  GetBucketTaggingCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockCredentials } from '@backstage/backend-test-utils';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  fakeAuthorization,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';
import { createRdsCreateAction } from '../actionFactories';

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);
const s3 = mockClient(S3Client);

const SNAPSHOT = 'mlflow-old-final-20261202t080000z';
const restored = {
  DBInstanceIdentifier: 'mlflow-demo',
  DBInstanceStatus: 'available',
  Endpoint: { Address: 'mlflow-demo.eu-west-1.rds.localhost', Port: 5433 },
  MasterUserSecret: {
    SecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-2',
  },
  TagList: [{ Key: 'stateful-mlflow/instance', Value: 'demo' }],
};

function setup(snapshot: Record<string, unknown> | undefined) {
  for (const client of [rds, ec2, sts, s3]) client.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  rds
    .on(DescribeDBInstancesCommand)
    .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
    .resolves({ DBInstances: [restored] });
  rds
    .on(DescribeDBParameterGroupsCommand)
    .rejects(awsError('DBParameterGroupNotFound', 404));
  if (snapshot) {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot] });
  } else {
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejects(awsError('DBSnapshotNotFound', 404));
  }
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-12345678' }] });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
  ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-0fedcba98765' });
}

const finalSnapshot = {
  DBSnapshotIdentifier: SNAPSHOT,
  Status: 'available',
  Engine: 'postgres',
  TagList: [
    { Key: 'stateful-mlflow/instance', Value: 'old' },
    { Key: 'owner', Value: MOCK_USER },
  ],
};

const input = {
  name: 'demo',
  region: 'eu-west-1',
  snapshotIdentifier: SNAPSHOT,
};

function action(authorization = testTenancy().authorization) {
  return createRdsCreateAction({
    aws: fakeAws,
    authorization,
    pollIntervalMs: 1,
  });
}

describe('mlflow:rds:create from a snapshot (restore)', () => {
  it("restores the snapshot under the new name with a created instance's settings and this instance's tags", async () => {
    setup(finalSnapshot);
    const a = action();
    const run = createCheckpointingContext(a, { input });
    await a.handler(run.ctx);
    expect(rds.commandCalls(CreateDBInstanceCommand)).toEqual([]);
    const [restore] = rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand);
    expect(restore.args[0].input).toMatchObject({
      DBInstanceIdentifier: 'mlflow-demo',
      DBSnapshotIdentifier: SNAPSHOT,
      PubliclyAccessible: false,
      StorageType: 'gp3',
      ManageMasterUserPassword: true,
      VpcSecurityGroupIds: ['sg-0fedcba98765'],
      DBParameterGroupName: expect.stringMatching(/^mlflow-demo-postgres\d+$/),
      Tags: expect.arrayContaining([
        { Key: 'stateful-mlflow/instance', Value: 'demo' },
        { Key: 'owner', Value: MOCK_USER },
        // The database step adopts the snapshot's databases under the new name from this tag.
        { Key: 'stateful-mlflow/restored-from', Value: 'old' },
      ]),
    });
    expect(run.logs.map(l => l.message)).toContainEqual(
      `Restoring RDS instance mlflow-demo in eu-west-1 from snapshot ${SNAPSHOT} (MLflow instance old)`,
    );
    expect(run.outputs).toMatchObject({
      endpoint: 'mlflow-demo.eu-west-1.rds.localhost',
      status: 'available',
    });
  });

  it.each([
    [undefined, 'there is no such RDS snapshot in this region'],
    [{ ...finalSnapshot, Status: 'creating' }, 'the snapshot is creating'],
    [
      { ...finalSnapshot, TagList: [] },
      'it does not carry the tag stateful-mlflow/instance',
    ],
  ])(
    'refuses a snapshot that cannot be restored (%#), naming it',
    async (snapshot, why) => {
      setup(snapshot);
      const a = action();
      const run = createCheckpointingContext(a, { input });
      await expect(a.handler(run.ctx)).rejects.toThrow(
        `Invalid snapshotIdentifier: received "${SNAPSHOT}", but ${why}`,
      );
      expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toEqual(
        [],
      );
      expect(ec2.commandCalls(CreateSecurityGroupCommand)).toEqual([]);
    },
  );

  it("refuses someone the snapshot's recorded owner does not allow, before any change", async () => {
    setup(finalSnapshot);
    const a = action(fakeAuthorization());
    const run = createCheckpointingContext(a, { input });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(a.handler(run.ctx)).rejects.toThrow(/user:default\/mallory/);
    expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toEqual(
      [],
    );
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toEqual([]);
  });

  it('outputs the instance a restored RDS instance was restored from, for the bucket step', async () => {
    setup(finalSnapshot);
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          ...restored,
          TagList: [
            ...restored.TagList,
            { Key: 'stateful-mlflow/restored-from', Value: 'old' },
          ],
        },
      ],
    });
    const a = action();
    const run = createCheckpointingContext(a, { input });
    await a.handler(run.ctx);
    expect(run.outputs.restoredFrom).toBe('old');
  });

  it.each([
    [
      'of another instance than the snapshot',
      [
        { Key: 'stateful-mlflow/instance', Value: 'other' },
        { Key: 'owner', Value: MOCK_USER },
        { Key: 'stateful-mlflow/retained', Value: '2026-12-02' },
      ],
      /Invalid retainedBucket: received "mlflow-other-artifacts", but it was retained from MLflow instance "other", while the database is restored from a snapshot of "old"/,
    ],
    [
      'whose recorded owner does not allow the initiator',
      [
        { Key: 'stateful-mlflow/instance', Value: 'old' },
        { Key: 'owner', Value: 'group:default/guests' },
        { Key: 'stateful-mlflow/retained', Value: '2026-12-02' },
      ],
      /user:default\/mock may not change MLflow instance "demo" .*owned by group:default\/guests/,
    ],
  ])(
    'refuses, with the snapshot, a retained bucket %s before any change',
    async (_what, tags, error) => {
      setup(finalSnapshot);
      s3.on(HeadBucketCommand).resolves({});
      s3.on(GetBucketTaggingCommand).resolves({ TagSet: tags });
      const a = action(fakeAuthorization());
      const run = createCheckpointingContext(a, {
        input: { ...input, retainedBucket: 'mlflow-other-artifacts' },
      });
      await expect(a.handler(run.ctx)).rejects.toThrow(error);
      expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toEqual(
        [],
      );
      expect(ec2.commandCalls(CreateSecurityGroupCommand)).toEqual([]);
    },
  );
});
