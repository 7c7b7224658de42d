import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
} from '@aws-sdk/client-rds';
import { fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  available,
  ec2,
  input,
  mockNothingCreatedYet,
  mutations,
  OURS,
  rds,
} from '../__testUtils__/rdsCreateFixtures';
import {
  fakeAuthorization,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';
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
});
