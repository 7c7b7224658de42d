import {
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  DBInstance,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { LoggerService } from '@backstage/backend-plugin-api';
import { StepDeadline } from '../util/stepDeadline';
import { waitFor } from '../util/waitFor';
import { callAws, findAws } from './awsErrors';
import { awsPartition } from './clients';
import { POSTGRES_PORT } from './ec2';
import { AwsTag } from './tags';

/** The master user's name when none is given; its password is RDS's, in Secrets Manager. */
export const DEFAULT_MASTER_USERNAME = 'mlflowadmin';

/** Names derived from the instance: its TLS-forcing parameter group and its security group. */
export function postgresInstanceNames(
  instanceId: string,
  engineVersion: string,
): {
  parameterGroupName: string;
  parameterGroupFamily: string;
  securityGroupName: string;
} {
  const major = engineVersion.split('.')[0];
  return {
    parameterGroupName: `${instanceId}-postgres${major}`,
    parameterGroupFamily: `postgres${major}`,
    securityGroupName: `${instanceId}-postgres`,
  };
}

/** Reads an RDS instance; undefined when it does not exist. */
export function describeDbInstance(
  rds: RDSClient,
  instanceId: string,
  deadline?: StepDeadline,
): Promise<DBInstance | undefined> {
  return findAws(
    'rds:DescribeDBInstances',
    `RDS instance "${instanceId}"`,
    ['DBInstanceNotFoundFault', 'DBInstanceNotFound'],
    abortSignal =>
      rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }),
        { abortSignal },
      ),
    deadline,
  ).then(result => result?.DBInstances?.[0]);
}

/** The ARN an RDS instance has (or will have) in that account. */
export function dbInstanceArn(
  region: string,
  accountId: string,
  instanceId: string,
): string {
  return `arn:${awsPartition(
    region,
  )}:rds:${region}:${accountId}:db:${instanceId}`;
}

/**
 * States an RDS instance does not leave by itself: waiting for `available` from one of them only
 * burns the step's timeout (30 minutes by default).
 */
const RDS_STUCK_STATES = new Set([
  'failed',
  'incompatible-network',
  'incompatible-option-group',
  'incompatible-parameters',
  'incompatible-restore',
  'inaccessible-encryption-credentials',
  'restore-error',
  'storage-full',
  'stopped',
  'stopping',
  'deleting',
]);

/**
 * Polls until the instance is `available`, with a progress line at least every 30 s, bounded by
 * `timeoutSeconds` and stopped on cancel. An instance in a state it does not leave by itself
 * (failed, stopped, deleting, storage-full …) fails the wait at once, saying where to look.
 */
export function waitForDbInstanceAvailable(
  rds: RDSClient,
  instanceId: string,
  options: {
    timeoutSeconds: number;
    logger: LoggerService;
    signal?: AbortSignal;
    pollIntervalMs: number;
    deadline?: StepDeadline;
  },
): Promise<DBInstance> {
  return waitFor({
    what: `RDS instance ${instanceId} to become available`,
    timeoutSeconds: options.timeoutSeconds,
    logger: options.logger,
    signal: options.signal,
    pollIntervalMs: options.pollIntervalMs,
    check: async () => {
      const current = await describeDbInstance(
        rds,
        instanceId,
        options.deadline,
      );
      const status = current?.DBInstanceStatus ?? 'not visible yet';
      if (RDS_STUCK_STATES.has(status)) {
        throw new Error(
          `RDS instance ${instanceId} is ${status}, a state it does not leave by itself, so it will not become available: see its events (aws rds describe-events --source-type db-instance --source-identifier ${instanceId}), fix or delete it, then run the task again`,
        );
      }
      return current && status === 'available'
        ? { done: true, value: current }
        : { done: false, status };
    },
  });
}

/** Where an existing instance falls short of the settings asked for; it is never modified here. */
export function postureDrift(
  instance: DBInstance,
  wanted: {
    multiAz: boolean;
    deletionProtection: boolean;
    backupRetentionDays: number;
  },
): string[] {
  const drift: string[] = [];
  if (instance.StorageEncrypted === false) {
    drift.push('its storage is not encrypted');
  }
  if (instance.PubliclyAccessible === true) {
    drift.push('it is publicly accessible');
  }
  if (wanted.multiAz && instance.MultiAZ === false) {
    drift.push('it is not Multi-AZ');
  }
  if (wanted.deletionProtection && instance.DeletionProtection === false) {
    drift.push('deletion protection is off');
  }
  if (
    (instance.BackupRetentionPeriod ?? wanted.backupRetentionDays) <
    wanted.backupRetentionDays
  ) {
    drift.push(
      `it keeps backups for ${instance.BackupRetentionPeriod} days, not ${wanted.backupRetentionDays}`,
    );
  }
  return drift;
}

/** Creates the parameter group when missing and sets rds.force_ssl=1 in it (idempotent). */
export async function ensureTlsParameterGroup(
  rds: RDSClient,
  options: {
    parameterGroupName: string;
    family: string;
    description: string;
    tags: AwsTag[];
    logger: LoggerService;
  },
  deadline?: StepDeadline,
): Promise<void> {
  const { parameterGroupName, logger } = options;
  const target = `parameter group "${parameterGroupName}"`;
  const found = await findAws(
    'rds:DescribeDBParameterGroups',
    target,
    ['DBParameterGroupNotFound', 'DBParameterGroupNotFoundFault'],
    abortSignal =>
      rds.send(
        new DescribeDBParameterGroupsCommand({
          DBParameterGroupName: parameterGroupName,
        }),
        { abortSignal },
      ),
    deadline,
  );
  if ((found?.DBParameterGroups ?? []).length === 0) {
    logger.info(`Creating parameter group ${parameterGroupName}`);
    await callAws(
      'rds:CreateDBParameterGroup',
      target,
      abortSignal =>
        rds.send(
          new CreateDBParameterGroupCommand({
            DBParameterGroupName: parameterGroupName,
            DBParameterGroupFamily: options.family,
            Description: options.description,
            Tags: options.tags,
          }),
          { abortSignal },
        ),
      deadline,
    );
  }
  logger.info(`Forcing TLS (rds.force_ssl=1) in ${parameterGroupName}`);
  await callAws(
    'rds:ModifyDBParameterGroup',
    target,
    abortSignal =>
      rds.send(
        new ModifyDBParameterGroupCommand({
          DBParameterGroupName: parameterGroupName,
          Parameters: [
            {
              ParameterName: 'rds.force_ssl',
              ParameterValue: '1',
              ApplyMethod: 'immediate',
            },
          ],
        }),
        { abortSignal },
      ),
    deadline,
  );
}

/** What the PostgreSQL instance is made of; the secure settings are not negotiable here. */
export type PostgresInstanceSpec = {
  instanceId: string;
  engineVersion: string;
  instanceClass: string;
  allocatedStorageGiB: number;
  maxAllocatedStorageGiB: number;
  kmsKeyId?: string;
  multiAz: boolean;
  deletionProtection: boolean;
  backupRetentionDays: number;
  masterUsername: string;
  masterUserSecretKmsKeyId?: string;
  securityGroupId: string;
  dbSubnetGroupName?: string;
  parameterGroupName: string;
  tags: AwsTag[];
};

/**
 * Starts creating an encrypted, private gp3 instance whose master password RDS generates and keeps
 * in Secrets Manager (it never passes through Backstage).
 */
export async function createPostgresInstance(
  rds: RDSClient,
  spec: PostgresInstanceSpec,
  deadline?: StepDeadline,
): Promise<void> {
  await callAws(
    'rds:CreateDBInstance',
    `RDS instance "${spec.instanceId}"`,
    abortSignal =>
      rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: spec.instanceId,
          Engine: 'postgres',
          EngineVersion: spec.engineVersion,
          DBInstanceClass: spec.instanceClass,
          AllocatedStorage: spec.allocatedStorageGiB,
          MaxAllocatedStorage: spec.maxAllocatedStorageGiB,
          StorageType: 'gp3',
          StorageEncrypted: true,
          KmsKeyId: spec.kmsKeyId || undefined,
          PubliclyAccessible: false,
          MultiAZ: spec.multiAz,
          DeletionProtection: spec.deletionProtection,
          BackupRetentionPeriod: spec.backupRetentionDays,
          CopyTagsToSnapshot: true,
          AutoMinorVersionUpgrade: true,
          MasterUsername: spec.masterUsername,
          ManageMasterUserPassword: true,
          MasterUserSecretKmsKeyId: spec.masterUserSecretKmsKeyId || undefined,
          VpcSecurityGroupIds: [spec.securityGroupId],
          DBSubnetGroupName: spec.dbSubnetGroupName || undefined,
          DBParameterGroupName: spec.parameterGroupName,
          Port: POSTGRES_PORT,
          Tags: spec.tags,
        }),
        { abortSignal },
      ),
    deadline,
  );
}
