import { Entity } from '@backstage/catalog-model';
import {
  ANNOTATION_MLFLOW_AUTH_ADMIN_SECRET,
  ANNOTATION_MLFLOW_AUTH_MODE,
  ANNOTATION_MLFLOW_HEALTH_SECRET,
  ANNOTATION_MLFLOW_AWS_ACCOUNT_ID,
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_KUBERNETES_CLUSTER,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  ANNOTATION_MLFLOW_TRACKING_URL,
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_NAMESPACE,
  MlflowAuthMode,
} from './annotations';

/**
 * What an entity's annotations say about its MLflow instance; absent keys are undefined.
 *
 * @public
 */
export type MlflowEntityInfo = {
  trackingUrl?: string;
  awsAccountId?: string;
  awsRegion?: string;
  rdsInstanceId?: string;
  artifactRoot?: string;
  bucket?: string;
  artifactPrefix?: string;
  kubernetesCluster?: string;
  kubernetesId?: string;
  kubernetesNamespace?: string;
  /** The raw `mlflow.org/auth-mode` value; see {@link parseMlflowAuthMode}. */
  authMode?: string;
  authAdminSecret?: string;
  healthSecret?: string;
};

/**
 * True when the entity describes an MLflow instance (it carries the tracking URL annotation).
 *
 * @public
 */
export function isMlflowAvailable(entity: Entity): boolean {
  return Boolean(entity.metadata.annotations?.[ANNOTATION_MLFLOW_TRACKING_URL]);
}

/**
 * Splits `s3://bucket/prefix` into its parts; undefined when it is not an S3 URI.
 *
 * @public
 */
export function parseS3Uri(
  uri: string,
): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri.trim());
  if (!match) {
    return undefined;
  }
  return { bucket: match[1], prefix: match[2].replace(/\/+$/, '') };
}

/**
 * Reads the MLflow annotations of an entity.
 *
 * @public
 */
export function getMlflowEntityInfo(entity: Entity): MlflowEntityInfo {
  const a = entity.metadata.annotations ?? {};
  const artifactRoot = a[ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT];
  const s3 = artifactRoot ? parseS3Uri(artifactRoot) : undefined;
  return {
    trackingUrl: a[ANNOTATION_MLFLOW_TRACKING_URL],
    awsAccountId: a[ANNOTATION_MLFLOW_AWS_ACCOUNT_ID],
    awsRegion: a[ANNOTATION_MLFLOW_AWS_REGION],
    rdsInstanceId: a[ANNOTATION_MLFLOW_RDS_INSTANCE_ID],
    artifactRoot,
    bucket: s3?.bucket,
    artifactPrefix: s3?.prefix,
    kubernetesCluster: a[ANNOTATION_MLFLOW_KUBERNETES_CLUSTER],
    kubernetesId: a[ANNOTATION_KUBERNETES_ID],
    kubernetesNamespace: a[ANNOTATION_KUBERNETES_NAMESPACE],
    authMode: a[ANNOTATION_MLFLOW_AUTH_MODE],
    authAdminSecret: a[ANNOTATION_MLFLOW_AUTH_ADMIN_SECRET],
    healthSecret: a[ANNOTATION_MLFLOW_HEALTH_SECRET],
  };
}

/**
 * The authentication mode an annotation value names; undefined for anything else.
 *
 * @public
 */
export function parseMlflowAuthMode(
  value: string | undefined,
): MlflowAuthMode | undefined {
  return value === 'basic-auth' || value === 'anonymous' ? value : undefined;
}

/**
 * Names of the two Resources an instance depends on.
 *
 * @public
 */
export function mlflowResourceNames(instanceName: string): {
  database: string;
  artifacts: string;
} {
  return {
    database: `${instanceName}-db`,
    artifacts: `${instanceName}-artifacts`,
  };
}
