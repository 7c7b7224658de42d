import {
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { InputError } from '@backstage/errors';
import {
  describeReceived,
  OWNERSHIP_TAG_KEY,
} from '@stateful-mlflow/plugin-mlflow-common';
import { StepDeadline } from '../util/stepDeadline';
import { callAws } from './awsErrors';
import { PostgresInstanceSpec } from './rds';
import { describeDbSnapshot } from './rdsDelete';
import { OWNER_TAG_KEY } from './tags';

/** A snapshot an instance may be restored from, and whose it was. */
export type RestorableSnapshot = {
  snapshotId: string;
  /** The MLflow instance the snapshot was taken of (its instance tag). */
  sourceInstance: string;
  /** The owner that instance recorded. */
  owner?: string;
};

/**
 * Checks that `snapshotId` is an available PostgreSQL snapshot of an MLflow instance (its tags,
 * copied from the instance, name it). Read-only; an InputError naming `snapshotIdentifier`.
 */
export async function readRestorableSnapshot(
  rds: RDSClient,
  snapshotId: string,
): Promise<RestorableSnapshot> {
  const snapshot = await describeDbSnapshot(rds, snapshotId);
  const refuse = (why: string): never => {
    throw new InputError(
      `Invalid snapshotIdentifier: received ${describeReceived(
        snapshotId,
      )}, but ${why}. Accepted: an available snapshot of an MLflow instance's PostgreSQL (e.g. the final snapshot of a decommission).`,
    );
  };
  if (!snapshot) {
    return refuse('there is no such RDS snapshot in this region');
  }
  if (snapshot.Status !== 'available') {
    return refuse(
      `the snapshot is ${snapshot.Status ?? 'in an unknown state'}`,
    );
  }
  if (snapshot.Engine && snapshot.Engine !== 'postgres') {
    return refuse(`it is a ${snapshot.Engine} snapshot`);
  }
  const tag = (key: string) =>
    snapshot.TagList?.find(t => t.Key === key)?.Value;
  const sourceInstance = tag(OWNERSHIP_TAG_KEY);
  if (!sourceInstance) {
    return refuse(
      `it does not carry the tag ${OWNERSHIP_TAG_KEY} of an MLflow instance`,
    );
  }
  return { snapshotId, sourceInstance, owner: tag(OWNER_TAG_KEY) };
}

/** Starts a new instance from a snapshot with the same settings a created one gets. */
export async function restorePostgresInstance(
  rds: RDSClient,
  spec: PostgresInstanceSpec,
  snapshotId: string,
  deadline?: StepDeadline,
): Promise<void> {
  await callAws(
    'rds:RestoreDBInstanceFromDBSnapshot',
    `RDS instance "${spec.instanceId}" from snapshot "${snapshotId}"`,
    abortSignal =>
      rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: spec.instanceId,
          DBSnapshotIdentifier: snapshotId,
          DBInstanceClass: spec.instanceClass,
          AllocatedStorage: spec.allocatedStorageGiB,
          StorageType: 'gp3',
          PubliclyAccessible: false,
          MultiAZ: spec.multiAz,
          DeletionProtection: spec.deletionProtection,
          CopyTagsToSnapshot: true,
          ManageMasterUserPassword: true,
          MasterUserSecretKmsKeyId: spec.masterUserSecretKmsKeyId || undefined,
          VpcSecurityGroupIds: [spec.securityGroupId],
          DBSubnetGroupName: spec.dbSubnetGroupName || undefined,
          DBParameterGroupName: spec.parameterGroupName,
          Tags: spec.tags,
        }),
        { abortSignal },
      ),
    deadline,
  );
}
