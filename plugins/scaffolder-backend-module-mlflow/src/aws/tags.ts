import {
  MANAGED_BY_STATEFUL_MLFLOW,
  OWNERSHIP_TAG_KEY,
} from '@stateful-mlflow/plugin-mlflow-common';

/** An AWS tag; the same shape across the S3, RDS, EC2 and IAM SDKs. */
export type AwsTag = { Key: string; Value: string };

export const MANAGED_BY_TAG_KEY = 'managed-by';

/** The tag recording the owner of the instance, a full entity ref (read by the health checks too). */
export const OWNER_TAG_KEY = 'owner';

/**
 * On an RDS instance restored from a snapshot: the MLflow instance the snapshot was taken of, so
 * the database step can adopt that instance's databases and role under a new name.
 */
export const RESTORED_FROM_TAG_KEY = 'stateful-mlflow/restored-from';

/** The instance an RDS instance was restored from, as its tags record it. */
export function restoredFromTag(
  tags: Array<{ Key?: string; Value?: string }> | undefined,
): string | undefined {
  return tags?.find(t => t.Key === RESTORED_FROM_TAG_KEY)?.Value;
}

/** Tags on every AWS resource we create: the instance that owns it, who owns that, and ourselves. */
export function mlflowTags(options: {
  name: string;
  owner?: string;
  environment: string;
  extra?: Record<string, string>;
}): AwsTag[] {
  const tags: Record<string, string> = {
    ...options.extra,
    Name: options.name,
    [OWNERSHIP_TAG_KEY]: options.name,
    [MANAGED_BY_TAG_KEY]: MANAGED_BY_STATEFUL_MLFLOW,
    environment: options.environment,
  };
  if (options.owner) {
    tags[OWNER_TAG_KEY] = options.owner;
  }
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** True when the tags mark the resource as created by us for the instance `name`. */
export function isOursTagged(
  tags: Array<{ Key?: string; Value?: string }> | undefined,
  name: string,
): boolean {
  return (tags ?? []).some(
    t => t.Key === OWNERSHIP_TAG_KEY && t.Value === name,
  );
}

/** Whose a tagged resource is: this instance's (with the owner it records), or someone else's. */
export type TaggedIdentity =
  | { kind: 'ours'; owner?: string }
  | { kind: 'foreign' };

/** Reads the instance identity from a resource's tags: ours only with our instance tag. */
export function taggedIdentity(
  tags: Array<{ Key?: string; Value?: string }> | undefined,
  name: string,
): TaggedIdentity {
  if (!isOursTagged(tags, name)) {
    return { kind: 'foreign' };
  }
  const owner = tags?.find(t => t.Key === OWNER_TAG_KEY)?.Value;
  return owner ? { kind: 'ours', owner } : { kind: 'ours' };
}
