import {
  DBInstance,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { AwsClientStub } from 'aws-sdk-client-mock';
import { MOCK_USER } from './tenancy';

/**
 * A small RDS for mlflow:rds:modify: class and storage wait in PendingModifiedValues unless
 * ApplyImmediately; an immediate change is `modifying` for one look, then applied.
 */
export function fakeModifiableRds(
  rds: AwsClientStub<RDSClient>,
  options: {
    name?: string;
    environment?: string;
    deletionProtection?: boolean;
    tags?: Array<{ Key: string; Value: string }>;
  } = {},
) {
  const name = options.name ?? 'demo';
  const instance: DBInstance = {
    DBInstanceIdentifier: `mlflow-${name}`,
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.t4g.micro',
    AllocatedStorage: 20,
    BackupRetentionPeriod: 7,
    DeletionProtection: options.deletionProtection ?? false,
    PreferredMaintenanceWindow: 'wed:06:38-wed:07:08',
    TagList: options.tags ?? [
      { Key: 'stateful-mlflow/instance', Value: name },
      { Key: 'owner', Value: MOCK_USER },
      { Key: 'environment', Value: options.environment ?? 'dev' },
    ],
  };
  let modifyingLooks = 0;
  rds.on(DescribeDBInstancesCommand).callsFake(async () => {
    if (modifyingLooks > 0) {
      modifyingLooks -= 1;
      if (modifyingLooks === 0) {
        instance.DBInstanceStatus = 'available';
      }
    }
    return { DBInstances: [structuredClone(instance)] };
  });
  rds.on(ModifyDBInstanceCommand).callsFake(async input => {
    const deferred = {
      DBInstanceClass: input.DBInstanceClass,
      AllocatedStorage: input.AllocatedStorage,
    };
    if (input.BackupRetentionPeriod !== undefined) {
      instance.BackupRetentionPeriod = input.BackupRetentionPeriod;
    }
    if (input.DeletionProtection !== undefined) {
      instance.DeletionProtection = input.DeletionProtection;
    }
    if (input.ApplyImmediately) {
      Object.assign(
        instance,
        Object.fromEntries(
          Object.entries({
            ...instance.PendingModifiedValues,
            ...deferred,
          }).filter(([, v]) => v !== undefined),
        ),
      );
      instance.PendingModifiedValues = undefined;
      instance.DBInstanceStatus = 'modifying';
      modifyingLooks = 2;
    } else {
      instance.PendingModifiedValues = {
        ...instance.PendingModifiedValues,
        ...Object.fromEntries(
          Object.entries(deferred).filter(([, v]) => v !== undefined),
        ),
      };
    }
    return { DBInstance: structuredClone(instance) };
  });
  return instance;
}
