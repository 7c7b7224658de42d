import {
  DBInstance,
  DBSnapshot,
  DeleteDBInstanceCommand,
  DeleteDBParameterGroupCommand,
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
  SecurityGroup,
} from '@aws-sdk/client-ec2';
import { LoggerService } from '@backstage/backend-plugin-api';
import { waitFor } from '../util/waitFor';
import { callAws, findAws } from './awsErrors';
import { describeDbInstance, postgresInstanceNames } from './rds';
import { isOursTagged } from './tags';

/** An RDS snapshot id for the final snapshot of `instanceId` taken at `at`: `<id>-final-<utc time>`. */
export function finalSnapshotIdentifier(instanceId: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'z')
    .toLowerCase();
  return `${instanceId}-final-${stamp}`;
}

/** The snapshot, or undefined when there is none of that id. Read-only. */
export async function describeDbSnapshot(
  rds: RDSClient,
  snapshotId: string,
): Promise<DBSnapshot | undefined> {
  const found = await findAws(
    'rds:DescribeDBSnapshots',
    `RDS snapshot "${snapshotId}"`,
    ['DBSnapshotNotFound', 'DBSnapshotNotFoundFault'],
    () =>
      rds.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }),
      ),
  );
  return found?.DBSnapshots?.[0];
}

/** Turns deletion protection off, so the instance can be deleted (asked for explicitly). */
export async function liftDeletionProtection(
  rds: RDSClient,
  instanceId: string,
): Promise<void> {
  await callAws('rds:ModifyDBInstance', `RDS instance "${instanceId}"`, () =>
    rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        DeletionProtection: false,
        ApplyImmediately: true,
      }),
    ),
  );
}

/** Starts deleting the instance after a final snapshot; never without one. */
export async function deleteDbInstanceWithFinalSnapshot(
  rds: RDSClient,
  instanceId: string,
  snapshotId: string,
): Promise<void> {
  await callAws('rds:DeleteDBInstance', `RDS instance "${instanceId}"`, () =>
    rds.send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        SkipFinalSnapshot: false,
        FinalDBSnapshotIdentifier: snapshotId,
      }),
    ),
  );
}

type WaitOptions = {
  timeoutSeconds: number;
  logger: LoggerService;
  signal?: AbortSignal;
  pollIntervalMs: number;
};

/** Polls until the instance is gone, with progress lines, bounded and stopped on cancel. */
export function waitForDbInstanceDeleted(
  rds: RDSClient,
  instanceId: string,
  options: WaitOptions,
): Promise<void> {
  return waitFor({
    what: `RDS instance ${instanceId} to be deleted`,
    ...options,
    check: async () => {
      const current = await describeDbInstance(rds, instanceId);
      return current
        ? { done: false, status: current.DBInstanceStatus ?? 'unknown' }
        : { done: true, value: undefined };
    },
  });
}

/** Polls until the snapshot is available; a failed snapshot ends the wait with an error. */
export function waitForDbSnapshotAvailable(
  rds: RDSClient,
  snapshotId: string,
  options: WaitOptions,
): Promise<DBSnapshot> {
  return waitFor({
    what: `RDS snapshot ${snapshotId} to become available`,
    ...options,
    check: async () => {
      const snapshot = await describeDbSnapshot(rds, snapshotId);
      const status = snapshot?.Status ?? 'not visible yet';
      if (status === 'failed') {
        throw new Error(
          `RDS snapshot ${snapshotId} failed; the instance's data is not in it. Take a manual snapshot before anything else is deleted.`,
        );
      }
      return snapshot && status === 'available'
        ? { done: true, value: snapshot }
        : { done: false, status };
    },
  });
}

/** The parameter groups created for the instance (`<id>-postgres<major>`) that carry its tag. */
export async function findInstanceParameterGroups(
  rds: RDSClient,
  options: { instanceId: string; name: string; instance?: DBInstance },
): Promise<string[]> {
  const { instanceId, name } = options;
  const pattern = new RegExp(
    `^${instanceId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-postgres\\d+$`,
  );
  const listed = await callAws(
    'rds:DescribeDBParameterGroups',
    `the parameter groups of RDS instance "${instanceId}"`,
    () => rds.send(new DescribeDBParameterGroupsCommand({})),
  );
  const ours: string[] = [];
  for (const group of listed.DBParameterGroups ?? []) {
    const groupName = group.DBParameterGroupName ?? '';
    if (!pattern.test(groupName) || !group.DBParameterGroupArn) {
      continue;
    }
    const tags = await callAws(
      'rds:ListTagsForResource',
      `parameter group "${groupName}"`,
      () =>
        rds.send(
          new ListTagsForResourceCommand({
            ResourceName: group.DBParameterGroupArn,
          }),
        ),
    );
    if (isOursTagged(tags.TagList, name)) {
      ours.push(groupName);
    }
  }
  return ours;
}

export async function deleteParameterGroup(
  rds: RDSClient,
  parameterGroupName: string,
): Promise<void> {
  await findAws(
    'rds:DeleteDBParameterGroup',
    `parameter group "${parameterGroupName}"`,
    ['DBParameterGroupNotFound', 'DBParameterGroupNotFoundFault'],
    () =>
      rds.send(
        new DeleteDBParameterGroupCommand({
          DBParameterGroupName: parameterGroupName,
        }),
      ),
  );
}

/** The security group `<id>-postgres` when it carries the instance's tag; a foreign one is left out. */
export async function findInstanceSecurityGroup(
  ec2: EC2Client,
  options: { instanceId: string; name: string },
): Promise<SecurityGroup | undefined> {
  const { securityGroupName } = postgresInstanceNames(options.instanceId, '0');
  const result = await callAws(
    'ec2:DescribeSecurityGroups',
    `security group "${securityGroupName}"`,
    () =>
      ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: 'group-name', Values: [securityGroupName] }],
        }),
      ),
  );
  return result.SecurityGroups?.find(g => isOursTagged(g.Tags, options.name));
}

export async function deleteSecurityGroup(
  ec2: EC2Client,
  group: { groupId: string; groupName: string },
): Promise<void> {
  await findAws(
    'ec2:DeleteSecurityGroup',
    `security group "${group.groupName}" (${group.groupId})`,
    ['InvalidGroup.NotFound'],
    () => ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.groupId })),
  );
}
