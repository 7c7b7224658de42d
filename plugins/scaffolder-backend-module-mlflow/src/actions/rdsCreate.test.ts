import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createRdsCreateAction } from './rdsCreate';
import {
  fakeAuthorization,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

const OURS = [{ Key: 'stateful-mlflow/instance', Value: 'demo' }];
const available = {
  DBInstanceIdentifier: 'mlflow-demo',
  DBInstanceArn: 'arn:aws:rds:eu-west-1:123456789012:db:mlflow-demo',
  DBInstanceStatus: 'available',
  Endpoint: {
    Address: 'mlflow-demo.abc.eu-west-1.rds.amazonaws.com',
    Port: 5432,
  },
  MasterUserSecret: {
    SecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1',
  },
  TagList: OURS,
};

const input = {
  name: 'demo',
  region: 'eu-west-1',
  allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
  owner: 'group:default/ml',
};

function mutations() {
  return [
    ...rds.commandCalls(CreateDBInstanceCommand),
    ...rds.commandCalls(CreateDBParameterGroupCommand),
    ...rds.commandCalls(ModifyDBParameterGroupCommand),
    ...ec2.commandCalls(CreateSecurityGroupCommand),
    ...ec2.commandCalls(AuthorizeSecurityGroupIngressCommand),
  ];
}

describe('mlflow:rds:create', () => {
  const action = createRdsCreateAction({
    aws: fakeAws,
    ...testTenancy(),
    pollIntervalMs: 1,
  });

  beforeEach(() => {
    rds.reset();
    ec2.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({ DBInstances: [available] });
    rds
      .on(DescribeDBParameterGroupsCommand)
      .rejects(awsError('DBParameterGroupNotFound', 404));
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-12345678' }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2
      .on(CreateSecurityGroupCommand)
      .resolves({ GroupId: 'sg-0fedcba9876543210' });
  });

  it('creates an encrypted, private instance with managed master password and forced TLS', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);

    expect(
      rds.commandCalls(CreateDBInstanceCommand)[0].args[0].input,
    ).toMatchObject({
      DBInstanceIdentifier: 'mlflow-demo',
      Engine: 'postgres',
      StorageType: 'gp3',
      AllocatedStorage: 20,
      MaxAllocatedStorage: 100,
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      BackupRetentionPeriod: 7,
      CopyTagsToSnapshot: true,
      AutoMinorVersionUpgrade: true,
      ManageMasterUserPassword: true,
      MasterUsername: 'mlflowadmin',
      VpcSecurityGroupIds: ['sg-0fedcba9876543210'],
      DBParameterGroupName: 'mlflow-demo-postgres17',
      Tags: expect.arrayContaining([
        { Key: 'stateful-mlflow/instance', Value: 'demo' },
        { Key: 'owner', Value: 'group:default/ml' },
      ]),
    });
    expect(
      rds.commandCalls(CreateDBInstanceCommand)[0].args[0].input,
    ).not.toHaveProperty('MasterUserPassword');
    expect(
      rds.commandCalls(ModifyDBParameterGroupCommand)[0].args[0].input
        .Parameters,
    ).toEqual([
      expect.objectContaining({
        ParameterName: 'rds.force_ssl',
        ParameterValue: '1',
      }),
    ]);
    expect(
      ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0].args[0].input,
    ).toMatchObject({
      GroupId: 'sg-0fedcba9876543210',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
          UserIdGroupPairs: [
            expect.objectContaining({ GroupId: 'sg-0123456789abcdef0' }),
          ],
        },
      ],
    });
    expect(
      ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0].args[0].input
        .IpPermissions![0].IpRanges,
    ).toBeUndefined();
    expect(outputs).toEqual({
      instanceId: 'mlflow-demo',
      arn: available.DBInstanceArn,
      endpoint: 'mlflow-demo.abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      masterSecretArn: available.MasterUserSecret.SecretArn,
      securityGroupId: 'sg-0fedcba9876543210',
      status: 'available',
    });
  });

  it('turns on Multi-AZ, deletion protection and 14 days of backups in prod', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, environment: 'prod' },
    });
    await action.handler(ctx);
    expect(
      rds.commandCalls(CreateDBInstanceCommand)[0].args[0].input,
    ).toMatchObject({
      MultiAZ: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 14,
    });
  });

  it('creates the parameter group when describing it lists none, and reuses an existing one', async () => {
    rds
      .on(DescribeDBParameterGroupsCommand)
      .resolves({ DBParameterGroups: [] });
    await action.handler(createCheckpointingContext(action, { input }).ctx);
    expect(rds.commandCalls(CreateDBParameterGroupCommand)).toHaveLength(1);

    rds.on(DescribeDBParameterGroupsCommand).resolves({
      DBParameterGroups: [{ DBParameterGroupName: 'mlflow-demo-postgres17' }],
    });
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({ DBInstances: [available] });
    await action.handler(createCheckpointingContext(action, { input }).ctx);
    expect(rds.commandCalls(CreateDBParameterGroupCommand)).toHaveLength(1);
    expect(rds.commandCalls(ModifyDBParameterGroupCommand)).toHaveLength(2);
  });

  it('counts an existing identical ingress rule as success', async () => {
    ec2
      .on(AuthorizeSecurityGroupIngressCommand)
      .rejects(awsError('InvalidPermission.Duplicate', 400));
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);
    expect(outputs.status).toBe('available');
  });

  it('refuses an existing instance that is not ours before changing anything', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { ...available, TagList: [{ Key: 'team', Value: 'other' }] },
      ],
    });
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /already exists and was not created for MLflow instance "demo".*choose another identifier/,
    );
    expect(mutations()).toHaveLength(0);
  });

  it.each([false, true])(
    "refuses another owner's instance without an entity before changing anything (dry-run %s)",
    async isDryRun => {
      const theirs = [...OURS, { Key: 'owner', Value: 'group:default/team-b' }];
      rds
        .on(DescribeDBInstancesCommand)
        .resolves({ DBInstances: [{ ...available, TagList: theirs }] });
      const strict = createRdsCreateAction({
        aws: fakeAws,
        authorization: fakeAuthorization(),
        pollIntervalMs: 1,
      });
      const { ctx, outputs } = createCheckpointingContext(strict, {
        input: { ...input, owner: 'group:default/intruders' },
        isDryRun,
      });
      await expect(strict.handler(ctx)).rejects.toThrow(
        'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/team-b (nor transfer it to group:default/intruders): user:default/mock is not a member of group:default/team-b',
      );
      expect(mutations()).toHaveLength(0);
      expect(outputs).toEqual({});
    },
  );

  it('records the owner of the existing instance on what a rerun without an owner creates', async () => {
    const tagged = [...OURS, { Key: 'owner', Value: 'group:default/ml' }];
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ ...available, TagList: tagged }] });
    const member = createRdsCreateAction({
      aws: fakeAws,
      authorization: fakeAuthorization({
        ownership: { [MOCK_USER]: [MOCK_USER, 'group:default/ml'] },
      }),
      pollIntervalMs: 1,
    });
    const { ctx } = createCheckpointingContext(member, {
      input: { ...input, owner: undefined },
    });
    await member.handler(ctx);
    expect(
      ec2.commandCalls(CreateSecurityGroupCommand)[0].args[0].input
        .TagSpecifications![0].Tags,
    ).toEqual(
      expect.arrayContaining([{ Key: 'owner', Value: 'group:default/ml' }]),
    );
  });

  it('does not create an existing instance of ours again', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [available] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: 'sg-0fedcba9876543210', Tags: OURS }],
    });
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);
    expect(rds.commandCalls(CreateDBInstanceCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(outputs.securityGroupId).toBe('sg-0fedcba9876543210');
  });

  it('warns about an existing instance of ours that falls short of the asked-for settings', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          ...available,
          PubliclyAccessible: true,
          MultiAZ: false,
          DeletionProtection: false,
          BackupRetentionPeriod: 1,
        },
      ],
    });
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: 'sg-0fedcba9876543210', Tags: OURS }],
    });
    const { ctx, logs } = createCheckpointingContext(action, {
      input: { ...input, environment: 'prod' },
    });
    await action.handler(ctx);
    const warnings = logs.filter(l => l.level === 'warn').map(l => l.message);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('but it is publicly accessible'),
        expect.stringContaining('but it is not Multi-AZ'),
        expect.stringContaining('but deletion protection is off'),
        expect.stringContaining('it keeps backups for 1 days, not 14'),
      ]),
    );
    expect(rds.commandCalls(CreateDBInstanceCommand)).toHaveLength(0);
  });

  it.each([
    ['instanceId', 'mlflow--demo', /two consecutive hyphens/],
    ['instanceId', '1mlflow', /start with a lowercase letter/],
    ['instanceId', 'mlflow-', /must not end with a hyphen/],
    ['instanceId', 'a'.repeat(64), /maximum is 63/],
    ['masterUsername', 'pg_admin', /prefixes pg_ and rds_ are reserved/],
    ['masterUsername', "admin'; DROP DATABASE x; --", /Invalid masterUsername/],
    [
      'allowedSecurityGroupIds',
      ['sg-xyz'],
      /Invalid allowedSecurityGroupIds\[0\]/,
    ],
    ['maxAllocatedStorageGiB', 20, /must be larger than allocatedStorageGiB/],
  ])('rejects %s %j before any AWS call', async (field, value, message) => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, [field]: value },
    });
    await expect(action.handler(ctx)).rejects.toThrow(message);
    expect(rds.calls()).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  it('plans without mutating during a dry-run and outputs placeholders', async () => {
    const { ctx, outputs, logs } = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    await action.handler(ctx);
    expect(mutations()).toHaveLength(0);
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Plan for RDS instance mlflow-demo in eu-west-1: create it/,
    );
    expect(outputs).toMatchObject({
      instanceId: 'mlflow-demo',
      port: 5432,
      status: 'dry-run',
    });
  });

  it('waits for the instance to become available, logging its status', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolvesOnce({
        DBInstances: [{ ...available, DBInstanceStatus: 'creating' }],
      })
      .resolvesOnce({
        DBInstances: [{ ...available, DBInstanceStatus: 'backing-up' }],
      })
      .resolves({ DBInstances: [available] });
    const { ctx, outputs, logs } = createCheckpointingContext(action, {
      input,
    });
    await action.handler(ctx);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(4);
    expect(logs.some(l => l.message.startsWith('Waiting up to 2400s'))).toBe(
      true,
    );
    expect(outputs.status).toBe('available');
  });

  it('returns at once without waiting, and refuses an available instance without a managed secret', async () => {
    const creating = {
      ...available,
      DBInstanceStatus: 'creating',
      Endpoint: undefined,
      MasterUserSecret: undefined,
    };
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({ DBInstances: [creating] });
    const quick = createCheckpointingContext(action, {
      input: { ...input, waitForAvailable: false },
    });
    await action.handler(quick.ctx);
    expect(quick.outputs).toMatchObject({
      status: 'creating',
      endpoint: '',
      masterSecretArn: '',
    });

    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ ...available, MasterUserSecret: undefined }],
    });
    const unmanaged = createCheckpointingContext(action, { input });
    await expect(action.handler(unmanaged.ctx)).rejects.toThrow(
      /has no managed master secret/,
    );
  });

  it('stops waiting promptly when the task is cancelled', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({
        DBInstances: [{ ...available, DBInstanceStatus: 'creating' }],
      });
    const patient = createRdsCreateAction({
      ...testTenancy(),
      aws: fakeAws,
      pollIntervalMs: 60_000,
    });
    const controller = new AbortController();
    const { ctx } = createCheckpointingContext(patient, {
      input,
      signal: controller.signal,
    });
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    await expect(patient.handler(ctx)).rejects.toThrow(
      'Cancelled while waiting for RDS instance mlflow-demo to become available',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails with the last status when the wait times out', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({
        DBInstances: [{ ...available, DBInstanceStatus: 'creating' }],
      });
    const slow = createRdsCreateAction({
      aws: fakeAws,
      ...testTenancy(),
      pollIntervalMs: 200,
    });
    const { ctx } = createCheckpointingContext(slow, {
      input: { ...input, timeoutSeconds: 1 },
    });
    await expect(slow.handler(ctx)).rejects.toThrow(
      /Timed out after 1s waiting for RDS instance mlflow-demo.*last status: creating/,
    );
  });

  it('replays its checkpoints on recovery without creating anything twice', async () => {
    const first = createCheckpointingContext(action, { input });
    await action.handler(first.ctx);
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({ DBInstances: [available] });
    const second = createCheckpointingContext(action, {
      input,
      store: first.store,
    });
    await action.handler(second.ctx);
    expect(second.executed).toEqual([]);
    expect(rds.commandCalls(CreateDBInstanceCommand)).toHaveLength(1);
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(1);
    expect(first.requested.join(' ')).not.toMatch(/secret/i);
  });
});
