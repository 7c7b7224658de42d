/**
 * Key prefix of the artifacts in the bucket when none is given.
 *
 * @public
 */
export const DEFAULT_ARTIFACT_PREFIX = 'artifacts';

/**
 * ServiceAccount of the tracking server when none is given; the IAM role trusts it.
 *
 * @public
 */
export const DEFAULT_SERVICE_ACCOUNT = 'mlflow';

/**
 * The names a caller may choose; an empty or absent one gets its default.
 *
 * @public
 */
export type InstanceNameOverrides = {
  rdsInstanceId?: string;
  bucket?: string;
  artifactPrefix?: string;
  namespace?: string;
  roleName?: string;
  databaseName?: string;
  databaseUsername?: string;
  databaseSecretName?: string;
  secretsManagerName?: string;
  serviceAccountName?: string;
  /** The public host of the tracking server; without it there is no tracking URL. */
  hostname?: string;
  /** With a TLS Secret the tracking URL is https. */
  tlsSecretName?: string;
  /** A cert-manager ClusterIssuer for the Ingress: https, the certificate in a generated Secret. */
  tlsClusterIssuer?: string;
  authDatabaseName?: string;
  authSecretName?: string;
  healthSecretName?: string;
};

/**
 * Every name of one MLflow instance, defaults filled in.
 *
 * @public
 */
export type InstanceNames = {
  name: string;
  /** RDS DB instance identifier. */
  rdsInstanceId: string;
  /** S3 bucket of the artifacts. */
  bucket: string;
  artifactPrefix: string;
  /** `s3://<bucket>/<artifactPrefix>`: MLflow's artifact root. */
  artifactRoot: string;
  /** Kubernetes namespace of the server and its Secrets. */
  namespace: string;
  /** IAM role the server's ServiceAccount assumes. */
  roleName: string;
  /** PostgreSQL database of the backend store. */
  databaseName: string;
  /** PostgreSQL login role the server connects as. */
  databaseUsername: string;
  /** Kubernetes Secret holding the backend store URI. */
  databaseSecretName: string;
  /** Secrets Manager secret holding the database credentials. */
  secretsManagerName: string;
  serviceAccountName: string;
  /** Deployment, Service and Ingress of the tracking server. */
  deploymentName: string;
  /** PostgreSQL database of MLflow's basic-auth app (users and permissions). */
  authDatabaseName: string;
  /** Kubernetes Secret of the auth app: admin login, Flask secret key, basic_auth.ini. */
  authSecretName: string;
  /** Kubernetes Secret of the low-privilege MLflow user of Backstage's health check. */
  healthSecretName: string;
  /** TLS Secret of the Ingress: the given one, or the one cert-manager fills for an issuer. */
  ingressTlsSecretName: string | undefined;
  /** Public URL of the tracking server, when a hostname is known. */
  trackingUrl: string | undefined;
  /** The catalog Component of the instance. */
  entityRef: string;
};

/**
 * Resolves every name of the instance `name`: the given overrides, and the default for each name
 * left empty. The one place a default name is spelled.
 *
 * @public
 */
export function resolveInstanceNames(
  options: { name: string } & InstanceNameOverrides,
): InstanceNames {
  const { name } = options;
  // Unique per instance, so instances sharing one PostgreSQL server never collide.
  const databaseIdentifier = `mlflow_${name.replace(/-/g, '_')}`;
  const bucket = options.bucket || `mlflow-${name}-artifacts`;
  const artifactPrefix = options.artifactPrefix || DEFAULT_ARTIFACT_PREFIX;
  const ingressTlsSecretName =
    options.tlsSecretName ||
    (options.tlsClusterIssuer ? `${name}-tls` : undefined);
  return {
    name,
    rdsInstanceId: options.rdsInstanceId || `mlflow-${name}`,
    bucket,
    artifactPrefix,
    artifactRoot: `s3://${bucket}/${artifactPrefix}`,
    namespace: options.namespace || `mlflow-${name}`,
    roleName: options.roleName || `mlflow-${name}`,
    databaseName: options.databaseName || databaseIdentifier,
    databaseUsername: options.databaseUsername || databaseIdentifier,
    databaseSecretName: options.databaseSecretName || `${name}-db`,
    secretsManagerName: options.secretsManagerName || `mlflow/${name}/database`,
    serviceAccountName: options.serviceAccountName || DEFAULT_SERVICE_ACCOUNT,
    deploymentName: name,
    // At most 63 characters: the instance name is at most 40.
    authDatabaseName: options.authDatabaseName || `${databaseIdentifier}_auth`,
    authSecretName: options.authSecretName || `${name}-mlflow-auth`,
    healthSecretName: options.healthSecretName || `${name}-mlflow-health`,
    ingressTlsSecretName,
    trackingUrl: options.hostname
      ? `${ingressTlsSecretName ? 'https' : 'http'}://${options.hostname}`
      : undefined,
    entityRef: `component:default/${name}`,
  };
}
