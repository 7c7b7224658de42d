import { DBInstance } from '@aws-sdk/client-rds';
import {
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  MlflowComplianceFlag,
  MlflowDatabaseDetails,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { RdsInstanceBatcher } from '../RdsInstanceBatcher';
import {
  CheckOutcome,
  HealthCheck,
  messageOf,
  missingAnnotation,
} from './types';

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

function offFlags(flags: MlflowComplianceFlag[]): string[] {
  return flags.filter(f => f.required && !f.ok).map(f => f.label);
}

/** RDS instance state and settings, from one DescribeDBInstances shared by the whole batch. */
export function createDatabaseCheck(options: {
  batcher: RdsInstanceBatcher;
}): HealthCheck<'database'> {
  return {
    id: 'database',
    async run({ entity, info }): Promise<CheckOutcome<'database'>> {
      if (!info.rdsInstanceId) {
        return missingAnnotation(ANNOTATION_MLFLOW_RDS_INSTANCE_ID);
      }
      if (!info.awsRegion) {
        return missingAnnotation(ANNOTATION_MLFLOW_AWS_REGION);
      }
      let instanceId: string;
      let region: string;
      try {
        instanceId = validateName(
          nameRules.rdsInstanceIdentifier,
          ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
          info.rdsInstanceId,
        );
        region = validateName(
          nameRules.awsRegion,
          ANNOTATION_MLFLOW_AWS_REGION,
          info.awsRegion,
        );
      } catch (error) {
        return {
          status: 'unknown',
          summary: `Not checked: ${messageOf(error)}`,
        };
      }

      const instance = await options.batcher.describe(region, instanceId);
      if (!instance) {
        return {
          status: 'error',
          summary: `RDS instance ${instanceId} does not exist in ${region}.`,
          details: { instanceId, region, compliance: [] },
        };
      }
      const compliance = databaseCompliance(
        instance,
        entity.spec?.lifecycle === 'production',
      );
      const details: MlflowDatabaseDetails = {
        instanceId,
        region,
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
