import type { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { InputError } from '@backstage/errors';
import {
  describeReceived,
  OWNERSHIP_TAG_KEY,
} from '@stateful-mlflow/plugin-mlflow-common';
import { describeDbInstance } from './rds';
import { restoredFromTag, taggedIdentity } from './tags';

/** What an RDS instance's tags record: its owner, and the instance it was restored from. */
export type RdsInstanceIdentity = { owner?: string; restoredFrom?: string };

/**
 * Checks, before anyone logs in as master, that the RDS instance was created for the MLflow
 * instance `name` (its tags) and that the master secret is that instance's own managed secret, so
 * a template cannot point the database step at another team's instance or secret. Read-only:
 * works on the DescribeDBInstances answer, in dry-run too. Returns the owner the instance records
 * and, for an instance restored from a snapshot, the MLflow instance the snapshot was taken of.
 */
export function verifyRdsInstanceIdentity(options: {
  name: string;
  instanceId: string;
  instance: DBInstance;
  masterSecretArn?: string;
}): RdsInstanceIdentity {
  const { name, instanceId, instance } = options;
  const identity = taggedIdentity(instance.TagList, name);
  if (identity.kind === 'foreign') {
    throw new InputError(
      `Invalid instanceId: received ${describeReceived(
        instanceId,
      )}, but that RDS instance was not created for MLflow instance "${name}" (it lacks the tag ${OWNERSHIP_TAG_KEY}=${name}). The database step never logs in to another instance.`,
    );
  }
  const managed = instance.MasterUserSecret?.SecretArn;
  if (options.masterSecretArn && options.masterSecretArn !== managed) {
    throw new InputError(
      `Invalid masterSecretArn: received ${describeReceived(
        options.masterSecretArn,
      )}, but that is not the managed master secret of RDS instance ${instanceId} (${
        managed ?? 'it has none'
      }). Leave masterSecretArn empty to use the instance's own.`,
    );
  }
  const restoredFrom = restoredFromTag(instance.TagList);
  return restoredFrom
    ? { owner: identity.owner, restoredFrom }
    : { owner: identity.owner };
}

/**
 * The RDS instance `instanceId` of the MLflow instance `name`, read before a change, with the owner
 * its tags record: refused, naming `instanceId`, when it does not exist in `region` or was not
 * created for `name`. `nothingDone` ends those messages ("Nothing was changed.").
 */
export async function describeOwnRdsInstance(o: {
  rds: RDSClient;
  name: string;
  instanceId: string;
  region: string;
  nothingDone: string;
}): Promise<{ instance: DBInstance; owner?: string }> {
  const { name, instanceId } = o;
  const instance = await describeDbInstance(o.rds, instanceId);
  if (!instance) {
    throw new InputError(
      `Invalid instanceId: received ${describeReceived(
        instanceId,
      )}, but there is no such RDS instance in ${o.region}. ${o.nothingDone}`,
    );
  }
  const identity = taggedIdentity(instance.TagList, name);
  if (identity.kind === 'foreign') {
    throw new InputError(
      `Invalid instanceId: received ${describeReceived(
        instanceId,
      )}, but that RDS instance was not created for MLflow instance "${name}" (it lacks the tag ${OWNERSHIP_TAG_KEY}=${name}). ${
        o.nothingDone
      }`,
    );
  }
  return { instance, owner: identity.owner };
}
