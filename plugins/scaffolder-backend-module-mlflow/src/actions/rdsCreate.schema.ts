import { z as zod } from 'zod/v3';
import { DEFAULT_MASTER_USERNAME } from '../aws/rds';
import {
  accountIdInput,
  allowedSecurityGroupIdsInput,
  rdsInstanceIdInput,
  environmentInput,
  nameInput,
  ownerInput,
  regionInput,
  tagsInput,
  timeoutSecondsInput,
} from './inputProperties';

type Z = typeof zod;

/** Inputs of mlflow:rds:create. */
export const rdsCreateInput = {
  name: nameInput,
  region: regionInput,
  accountId: accountIdInput,
  instanceId: rdsInstanceIdInput,
  environment: environmentInput,
  owner: ownerInput,
  engineVersion: (z: Z) =>
    z
      .string()
      .default('17')
      .describe(
        'PostgreSQL version: a major version (17) lets RDS pick the newest minor.',
      ),
  instanceClass: (z: Z) =>
    z
      .string()
      .default('db.t4g.small')
      .describe('RDS instance class, e.g. db.t4g.small or db.m7g.large.'),
  allocatedStorageGiB: (z: Z) =>
    z
      .number()
      .int()
      .min(20)
      .max(65536)
      .default(20)
      .describe('Initial gp3 storage in GiB.'),
  maxAllocatedStorageGiB: (z: Z) =>
    z
      .number()
      .int()
      .min(21)
      .max(65536)
      .default(100)
      .describe(
        'Upper limit of storage autoscaling in GiB; larger than allocatedStorageGiB.',
      ),
  kmsKeyId: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'KMS key for storage encryption; the AWS-managed RDS key when empty. Encryption is always on.',
      ),
  multiAz: (z: Z) =>
    z
      .boolean()
      .optional()
      .describe(
        'Standby in a second availability zone; on in prod, off elsewhere, unless set.',
      ),
  deletionProtection: (z: Z) =>
    z
      .boolean()
      .optional()
      .describe('Deletion protection; on in prod unless set.'),
  backupRetentionDays: (z: Z) =>
    z
      .number()
      .int()
      .min(1)
      .max(35)
      .optional()
      .describe(
        'Days of automated backups; 14 in prod, 7 elsewhere, unless set.',
      ),
  snapshotIdentifier: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        "Restore: start the instance from this available snapshot of an MLflow instance (e.g. a decommission's final snapshot) instead of empty; the initiator must be allowed by the owner the snapshot records. Ignored when the instance exists.",
      ),
  retainedBucket: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        "Restore under a new name: the retained bucket mlflow:s3:create will adopt. Checked here too (read-only), before this step changes anything: it must have been retained from the snapshot's instance and its recorded owner must allow the initiator.",
      ),
  vpcId: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        "VPC of the instance's security group; the account's default VPC when empty. Must match the subnet group.",
      ),
  dbSubnetGroupName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'DB subnet group (private subnets, same VPC as the cluster); the default VPC when empty.',
      ),
  allowedSecurityGroupIds: allowedSecurityGroupIdsInput,
  masterUsername: (z: Z) =>
    z
      .string()
      .default(DEFAULT_MASTER_USERNAME)
      .describe(
        'Name of the master user. Its password is generated and kept by RDS in Secrets Manager; it never passes through Backstage.',
      ),
  masterUserSecretKmsKeyId: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'KMS key encrypting the managed master secret; the Secrets Manager default key when empty.',
      ),
  waitForAvailable: (z: Z) =>
    z
      .boolean()
      .default(true)
      .describe(
        'Wait until the instance is available (needed before mlflow:database:create; RDS takes 5 to 20 minutes).',
      ),
  timeoutSeconds: (z: Z) => timeoutSecondsInput(z, 2400),
  tags: tagsInput,
};

/** Outputs of mlflow:rds:create. */
export const rdsCreateOutput = {
  instanceId: (z: Z) => z.string().describe('RDS DB instance identifier.'),
  arn: (z: Z) => z.string().describe('ARN of the DB instance.'),
  endpoint: (z: Z) =>
    z
      .string()
      .describe('Host name of the instance (empty until RDS has assigned it).'),
  port: (z: Z) => z.number().describe('PostgreSQL port.'),
  masterSecretArn: (z: Z) =>
    z
      .string()
      .describe(
        'ARN of the RDS-managed master secret in Secrets Manager (the ARN only, never its value); empty while RDS is still creating it, mlflow:database:create then reads it from the instance.',
      ),
  securityGroupId: (z: Z) =>
    z.string().describe('Security group guarding the instance.'),
  status: (z: Z) =>
    z.string().describe('Instance status when the step ended, e.g. available.'),
  restoredFrom: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'For an instance restored from a snapshot: the MLflow instance the snapshot was taken of (mlflow:s3:create retainedFromInstance).',
      ),
};
