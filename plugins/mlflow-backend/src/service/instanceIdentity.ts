import {
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_MLFLOW_TRUSTED,
  DEPLOYMENT_ANNOTATION_OWNER,
  LABEL_APP_INSTANCE,
  OWNERSHIP_TAG_KEY,
} from '@stateful-mlflow/plugin-mlflow-common';

/** The owner tag the provisioning actions write next to {@link OWNERSHIP_TAG_KEY}. */
export const OWNER_TAG_KEY = 'owner';

/** Origin location of the entities the MLflow entity provider emits. */
const PROVIDER_LOCATION_PREFIX = 'mlflow-cluster:';

/** The identity an instance records on its resources: its name, and its owner when recorded. */
export type InstanceIdentity = { name: string; owner?: string };

/** A full, lower-case entity ref; undefined when the value is not a ref. */
function normaliseOwner(owner: string | undefined): string | undefined {
  if (!owner) {
    return undefined;
  }
  try {
    return stringifyEntityRef(
      parseEntityRef(owner, { defaultKind: 'group' }),
    ).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}

/** The instance an entity stands for: the name in `backstage.io/kubernetes-id`, the entity's owner. */
export function identityOf(entity: Entity): InstanceIdentity | undefined {
  const name = entity.metadata.annotations?.[ANNOTATION_KUBERNETES_ID];
  if (!name) {
    return undefined;
  }
  const owner = normaliseOwner(
    typeof entity.spec?.owner === 'string' ? entity.spec.owner : undefined,
  );
  return { name, ...(owner ? { owner } : {}) };
}

/**
 * True when the entity came from the MLflow entity provider and the provider marked it trusted:
 * the catalog sets the origin location itself for entities read from locations, so a registered
 * catalog-info.yaml cannot claim the provider's.
 */
export function isTrustedEntity(entity: Entity): boolean {
  const annotations = entity.metadata.annotations ?? {};
  return (
    annotations[ANNOTATION_MLFLOW_TRUSTED] === 'true' &&
    (annotations[ANNOTATION_ORIGIN_LOCATION] ?? '').startsWith(
      PROVIDER_LOCATION_PREFIX,
    )
  );
}

/** An AWS tag list as the RDS and S3 SDKs return it. */
export type AwsTags = Array<{ Key?: string; Value?: string }> | undefined;

function tagValue(tags: AwsTags, key: string): string | undefined {
  return tags?.find(t => t.Key === key)?.Value;
}

/**
 * Why an AWS resource is not this instance's, or undefined when it is: it must carry the instance
 * name under {@link OWNERSHIP_TAG_KEY} and, when it records an owner, this instance's owner.
 */
export function awsIdentityMismatch(
  tags: AwsTags,
  identity: InstanceIdentity,
): string | undefined {
  const name = tagValue(tags, OWNERSHIP_TAG_KEY);
  if (name === undefined) {
    return `it has no ${OWNERSHIP_TAG_KEY} tag`;
  }
  if (name !== identity.name) {
    return `its ${OWNERSHIP_TAG_KEY} tag names another instance`;
  }
  const owner = tagValue(tags, OWNER_TAG_KEY);
  if (owner !== undefined && normaliseOwner(owner) !== identity.owner) {
    return `its ${OWNER_TAG_KEY} tag names another owner`;
  }
  return undefined;
}

/**
 * Why a Deployment is not this instance's, or undefined when it is: its instance label (and the
 * {@link OWNERSHIP_TAG_KEY} label when present) names the instance, and an owner annotation, when
 * present, names this instance's owner.
 */
export function workloadIdentityMismatch(
  metadata:
    | { labels?: Record<string, string>; annotations?: Record<string, string> }
    | undefined,
  identity: InstanceIdentity,
): string | undefined {
  const labels = metadata?.labels ?? {};
  if (labels[LABEL_APP_INSTANCE] !== identity.name) {
    return `its ${LABEL_APP_INSTANCE} label names another instance`;
  }
  const ownership = labels[OWNERSHIP_TAG_KEY];
  if (ownership !== undefined && ownership !== identity.name) {
    return `its ${OWNERSHIP_TAG_KEY} label names another instance`;
  }
  const owner = metadata?.annotations?.[DEPLOYMENT_ANNOTATION_OWNER];
  if (owner !== undefined && normaliseOwner(owner) !== identity.owner) {
    return `its ${DEPLOYMENT_ANNOTATION_OWNER} annotation names another owner`;
  }
  return undefined;
}
