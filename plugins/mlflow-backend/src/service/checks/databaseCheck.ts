import { DBInstance } from '@aws-sdk/client-rds';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  MlflowComplianceFlag,
  MlflowDatabaseDetails,
  MlflowPendingDatabaseChange,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { awsIdentityMismatch } from '../instanceIdentity';
import { RdsInstanceReader } from '../rdsInstances';
import {
  CheckOutcome,
  HealthCheck,
  messageOf,
  missingAnnotation,
  missingIdentity,
} from './types';
import { readAwsLocation } from './awsLocation';

/** States in which the instance accepts connections; every other state means it does not. */
const SERVING_STATES = new Set([
  'available',
  'backing-up',
  'configuring-enhanced-monitoring',
  'configuring-iam-database-auth',
  'configuring-log-exports',
  'converting-to-vpc',
  'maintenance',
  'modifying',
  'moving-to-vpc',
  'renaming',
  'resetting-master-credentials',
  'storage-config-upgrade',
  'storage-optimization',
  'upgrading',
]);

/** The production-only points follow the deploy defaults: Multi-AZ and deletion protection in prod. */
function databaseCompliance(
  instance: DBInstance,
  production: boolean,
): MlflowComplianceFlag[] {
  return [
    {
      id: 'storageEncrypted',
      label: 'Storage encrypted',
      ok: instance.StorageEncrypted === true,
      required: true,
    },
    {
      id: 'notPubliclyAccessible',
      label: 'Not publicly accessible',
      ok: instance.PubliclyAccessible === false,
      required: true,
    },
    {
      id: 'automatedBackups',
      label: 'Automated backups',
      ok: (instance.BackupRetentionPeriod ?? 0) > 0,
      required: true,
    },
    {
      id: 'multiAz',
      label: 'Multi-AZ',
      ok: instance.MultiAZ === true,
      required: production,
    },
    {
      id: 'deletionProtection',
      label: 'Deletion protection',
      ok: instance.DeletionProtection === true,
      required: production,
    },
  ];
}

/** What RDS holds for the maintenance window, in words, with today's value beside it. */
export function pendingChanges(
  instance: DBInstance,
): MlflowPendingDatabaseChange[] {
  const pending = instance.PendingModifiedValues ?? {};
  const rows: Array<[string, unknown, unknown]> = [
    ['instance class', instance.DBInstanceClass, pending.DBInstanceClass],
    [
      'allocated storage (GiB)',
      instance.AllocatedStorage,
      pending.AllocatedStorage,
    ],
    [
      'backup retention (days)',
      instance.BackupRetentionPeriod,
      pending.BackupRetentionPeriod,
    ],
    ['Multi-AZ', instance.MultiAZ, pending.MultiAZ],
    ['engine version', instance.EngineVersion, pending.EngineVersion],
    ['storage type', instance.StorageType, pending.StorageType],
    ['IOPS', instance.Iops, pending.Iops],
    ['port', instance.Endpoint?.Port, pending.Port],
    [
      'CA certificate',
      instance.CACertificateIdentifier,
      pending.CACertificateIdentifier,
    ],
  ];
  return rows.flatMap(([setting, current, next]) =>
    next === undefined || next === null
      ? []
      : [
          {
            setting,
            ...(current !== undefined ? { current: String(current) } : {}),
            pending: String(next),
          },
        ],
  );
}

function offFlags(flags: MlflowComplianceFlag[]): string[] {
  return flags.filter(f => f.required && !f.ok).map(f => f.label);
}

/**
 * RDS instance state and settings, from one DescribeDBInstances shared by the whole batch; an
 * instance that does not carry this instance's identity tags is refused, not described.
 */
export function createDatabaseCheck(options: {
  instances: RdsInstanceReader;
}): HealthCheck<'database'> {
  return {
    id: 'database',
    async run({
      entity,
      info,
      identity,
      log,
    }): Promise<CheckOutcome<'database'>> {
      if (!info.rdsInstanceId) {
        return missingAnnotation(ANNOTATION_MLFLOW_RDS_INSTANCE_ID);
      }
      if (!info.awsRegion) {
        return missingAnnotation(ANNOTATION_MLFLOW_AWS_REGION);
      }
      if (!identity) {
        return missingIdentity(ANNOTATION_KUBERNETES_ID);
      }
      let instanceId: string;
      let location: ReturnType<typeof readAwsLocation>;
      try {
        instanceId = validateName(
          nameRules.rdsInstanceIdentifier,
          ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
          info.rdsInstanceId,
        );
        location = readAwsLocation(info.awsRegion, info.awsAccountId);
      } catch (error) {
        return {
          status: 'unknown',
          summary: `Not checked: ${messageOf(error)}`,
        };
      }
      const { region } = location;

      let instance;
      try {
        instance = await options.instances.get(location, instanceId);
      } catch (error) {
        log(`DescribeDBInstances ${instanceId}: ${messageOf(error)}`);
        return {
          status: 'error',
          summary: `Could not describe RDS instance ${instanceId} in ${region}; the AWS error is in the backend log.`,
          details: { instanceId, region, compliance: [] },
        };
      }
      if (!instance) {
        return {
          status: 'error',
          summary: `RDS instance ${instanceId} does not exist in ${region}.`,
          details: { instanceId, region, compliance: [] },
        };
      }
      const foreign = awsIdentityMismatch(instance.TagList, identity);
      if (foreign) {
        return {
          status: 'error',
          summary: `RDS instance ${instanceId} is not this instance's (${foreign}); it is not described.`,
          details: { instanceId, region, compliance: [] },
        };
      }
      const compliance = databaseCompliance(
        instance,
        entity.spec?.lifecycle === 'production',
      );
      const pending = pendingChanges(instance);
      const details: MlflowDatabaseDetails = {
        instanceId,
        region,
        ...(location.accountId ? { accountId: location.accountId } : {}),
        status: instance.DBInstanceStatus,
        engine: instance.Engine,
        engineVersion: instance.EngineVersion,
        instanceClass: instance.DBInstanceClass,
        allocatedStorageGiB: instance.AllocatedStorage,
        endpoint: instance.Endpoint?.Address,
        port: instance.Endpoint?.Port,
        multiAz: instance.MultiAZ,
        storageEncrypted: instance.StorageEncrypted,
        publiclyAccessible: instance.PubliclyAccessible,
        backupRetentionDays: instance.BackupRetentionPeriod,
        deletionProtection: instance.DeletionProtection,
        ...(pending.length > 0 ? { pendingChanges: pending } : {}),
        compliance,
      };
      const state = instance.DBInstanceStatus ?? 'unknown';
      if (!SERVING_STATES.has(state)) {
        return {
          status: 'error',
          summary: `RDS instance ${instanceId} is ${state}, not available.`,
          details,
        };
      }
      const off = offFlags(compliance);
      if (state !== 'available' || off.length > 0) {
        const parts = [
          state !== 'available' ? `is ${state}` : 'is available',
          off.length > 0 ? `compliance off: ${off.join(', ')}` : undefined,
        ].filter(Boolean);
        return {
          status: 'warning',
          summary: `RDS instance ${instanceId} ${parts.join('; ')}.`,
          details,
        };
      }
      return {
        status: 'ok',
        summary: `RDS instance ${instanceId} is available (${
          instance.Engine ?? 'engine unknown'
        } ${instance.EngineVersion ?? ''}).`.replace(' )', ')'),
        details,
      };
    },
  };
}
