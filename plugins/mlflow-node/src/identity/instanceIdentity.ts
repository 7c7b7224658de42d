import { V1Deployment } from '@kubernetes/client-node';
import {
  ANNOTATION_MLFLOW_AWS_ACCOUNT_ID,
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  ANNOTATION_MLFLOW_TRACKING_URL,
  DEPLOYMENT_ANNOTATION_DATABASE_NAME,
  DEPLOYMENT_ANNOTATION_DESCRIPTION,
  DEPLOYMENT_ANNOTATION_ENVIRONMENT,
  DEPLOYMENT_ANNOTATION_IDENTITY_SIGNATURE,
  DEPLOYMENT_ANNOTATION_OWNER,
  DEPLOYMENT_ANNOTATION_SYSTEM,
  LABEL_APP_INSTANCE,
} from '@stateful-mlflow/plugin-mlflow-common';
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What the deploy action vouches for about one MLflow instance. The first four fields say where the
 * Deployment lives, so a copy in another namespace or cluster does not verify; the rest are the
 * facts the catalog takes from the Deployment's annotations.
 *
 * @public
 */
export type MlflowInstanceIdentity = {
  /** Cluster name from `kubernetes.clusterLocatorMethods`, as the catalog lists it. */
  cluster: string;
  namespace: string;
  deploymentName: string;
  /** The `app.kubernetes.io/instance` label: the catalog Component name. */
  instanceName: string;
  owner?: string;
  system?: string;
  description?: string;
  environment?: string;
  trackingUrl?: string;
  awsAccountId?: string;
  awsRegion?: string;
  rdsInstanceId?: string;
  s3ArtifactRoot?: string;
  databaseName?: string;
};

/** Signed fields in a fixed order; a new field goes at the end with a new version. */
const SIGNED_FIELDS: ReadonlyArray<keyof MlflowInstanceIdentity> = [
  'cluster',
  'namespace',
  'deploymentName',
  'instanceName',
  'owner',
  'system',
  'description',
  'environment',
  'trackingUrl',
  'awsAccountId',
  'awsRegion',
  'rdsInstanceId',
  's3ArtifactRoot',
  'databaseName',
];

const VERSION = 'v1';
const CONTEXT = 'stateful-mlflow/instance-identity';

/** Deployment annotation holding each identity fact (the location fields come from metadata). */
const ANNOTATION_OF: Partial<Record<keyof MlflowInstanceIdentity, string>> = {
  owner: DEPLOYMENT_ANNOTATION_OWNER,
  system: DEPLOYMENT_ANNOTATION_SYSTEM,
  description: DEPLOYMENT_ANNOTATION_DESCRIPTION,
  environment: DEPLOYMENT_ANNOTATION_ENVIRONMENT,
  trackingUrl: ANNOTATION_MLFLOW_TRACKING_URL,
  awsAccountId: ANNOTATION_MLFLOW_AWS_ACCOUNT_ID,
  awsRegion: ANNOTATION_MLFLOW_AWS_REGION,
  rdsInstanceId: ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  s3ArtifactRoot: ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  databaseName: DEPLOYMENT_ANNOTATION_DATABASE_NAME,
};

/**
 * The exact bytes that are signed: a JSON array of the version and every field in a fixed order
 * (absent as null), so no two identities encode alike (no separator ambiguity, no key order).
 *
 * @public
 */
export function canonicalInstanceIdentity(
  identity: MlflowInstanceIdentity,
): string {
  return JSON.stringify([
    CONTEXT,
    VERSION,
    ...SIGNED_FIELDS.map(field => identity[field] ?? null),
  ]);
}

function mac(identity: MlflowInstanceIdentity, key: string): Buffer {
  return createHmac('sha256', key)
    .update(canonicalInstanceIdentity(identity))
    .digest();
}

/**
 * The signature of an instance identity: `v1.<base64url HMAC-SHA256>`, for the
 * `mlflow.org/identity-signature` annotation.
 *
 * @public
 */
export function signInstanceIdentity(
  identity: MlflowInstanceIdentity,
  key: string,
): string {
  return `${VERSION}.${mac(identity, key).toString('base64url')}`;
}

/**
 * Whether `signature` was made over exactly this identity with one of `keys` (the current key and
 * the ones being rotated out). Compared in constant time.
 *
 * @public
 */
export function verifyInstanceIdentity(
  identity: MlflowInstanceIdentity,
  signature: string | undefined,
  keys: ReadonlyArray<string>,
): boolean {
  const prefix = `${VERSION}.`;
  if (!signature?.startsWith(prefix)) {
    return false;
  }
  const given = Buffer.from(signature.slice(prefix.length), 'base64url');
  let valid = false;
  for (const key of keys) {
    const expected = mac(identity, key);
    // Every key is tried, so the time taken does not tell which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      valid = true;
    }
  }
  return valid;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * The identity a Deployment claims: where it is (metadata and the cluster it was listed in, never
 * an annotation) and the facts of its annotations. The deploy action signs it after rendering;
 * the catalog verifies it after listing.
 *
 * @public
 */
export function instanceIdentityOfDeployment(
  deployment: V1Deployment,
  cluster: string,
): MlflowInstanceIdentity {
  const metadata = deployment.metadata ?? {};
  const annotations = metadata.annotations ?? {};
  const deploymentName = metadata.name ?? '';
  const identity: MlflowInstanceIdentity = {
    cluster,
    namespace: metadata.namespace ?? 'default',
    deploymentName,
    instanceName:
      nonEmpty(metadata.labels?.[LABEL_APP_INSTANCE]) ?? deploymentName,
  };
  for (const [field, annotation] of Object.entries(ANNOTATION_OF)) {
    const value = nonEmpty(annotations[annotation]);
    if (value !== undefined) {
      identity[field as keyof MlflowInstanceIdentity] = value;
    }
  }
  return identity;
}

/**
 * The Deployment with its identity signed into the `mlflow.org/identity-signature` annotation;
 * the input is not changed. Call it on the final object: any later change to a signed annotation,
 * the instance label, the name or the namespace invalidates the signature.
 *
 * @public
 */
export function signMlflowDeployment(
  deployment: V1Deployment,
  cluster: string,
  key: string,
): V1Deployment {
  const signature = signInstanceIdentity(
    instanceIdentityOfDeployment(deployment, cluster),
    key,
  );
  return {
    ...deployment,
    metadata: {
      ...deployment.metadata,
      annotations: {
        ...deployment.metadata?.annotations,
        [DEPLOYMENT_ANNOTATION_IDENTITY_SIGNATURE]: signature,
      },
    },
  };
}

/**
 * The verified identity of a Deployment listed in `cluster`, or undefined when its signature is
 * missing or was not made over this identity in this place with one of `keys`.
 *
 * @public
 */
export function verifyMlflowDeployment(
  deployment: V1Deployment,
  cluster: string,
  keys: ReadonlyArray<string>,
): MlflowInstanceIdentity | undefined {
  const identity = instanceIdentityOfDeployment(deployment, cluster);
  const signature =
    deployment.metadata?.annotations?.[
      DEPLOYMENT_ANNOTATION_IDENTITY_SIGNATURE
    ];
  return verifyInstanceIdentity(identity, signature, keys)
    ? identity
    : undefined;
}
