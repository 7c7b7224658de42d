import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  ModifyDBParameterGroupCommand,
} from '@aws-sdk/client-rds';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  available,
  ec2,
  input,
  mockNothingCreatedYet,
  mutations,
  rds,
  sts,
} from '../__testUtils__/rdsCreateFixtures';
import { testTenancy } from '../__testUtils__/tenancy';
import { createRdsCreateAction } from '../actionFactories';

describe('mlflow:rds:create', () => {
  const action = createRdsCreateAction({
    aws: fakeAws,
    ...testTenancy(),
    pollIntervalMs: 1,
  });

  beforeEach(() => {
    mockNothingCreatedYet();
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
