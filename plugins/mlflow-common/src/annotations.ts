/**
 * Public URL of the MLflow tracking server (the Ingress URL users open).
 *
 * @public
 */
export const ANNOTATION_MLFLOW_TRACKING_URL = 'mlflow.org/tracking-url';

/**
 * AWS region that holds the instance's RDS database and S3 bucket, e.g. `eu-west-1`.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_AWS_REGION = 'mlflow.org/aws-region';

/**
 * Identifier of the RDS DB instance that is the backend store.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_RDS_INSTANCE_ID = 'mlflow.org/rds-instance-id';

/**
 * Artifact root of the instance, `s3://bucket/prefix`.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT = 'mlflow.org/s3-artifact-root';

/**
 * Name of the Kubernetes cluster (as in `kubernetes.clusterLocatorMethods`) running the server.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_KUBERNETES_CLUSTER =
  'mlflow.org/kubernetes-cluster';

/**
 * The core Kubernetes plugin's id annotation; set so its tab works for MLflow instances too.
 *
 * @public
 */
export const ANNOTATION_KUBERNETES_ID = 'backstage.io/kubernetes-id';

/**
 * The core Kubernetes plugin's namespace annotation.
 *
 * @public
 */
export const ANNOTATION_KUBERNETES_NAMESPACE =
  'backstage.io/kubernetes-namespace';

/**
 * Annotations the deploy action writes on the MLflow Deployment so that the catalog module can
 * rebuild the entities from the cluster alone. The `mlflow.org/*` entity annotations above are
 * written on the Deployment under the same keys.
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_OWNER = 'mlflow.org/owner';
/**
 * System the instance belongs to (optional).
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_SYSTEM = 'mlflow.org/system';
/**
 * Human description of the instance.
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_DESCRIPTION = 'mlflow.org/description';
/**
 * Environment of the instance: dev, staging or prod.
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_ENVIRONMENT = 'mlflow.org/environment';
/**
 * Name of the PostgreSQL database inside the RDS instance.
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_DATABASE_NAME = 'mlflow.org/database-name';
/**
 * HMAC over the instance's identity (place, owner, system, URLs, AWS identifiers) with the
 * operator's `mlflow.identity.signingKey`: the catalog trusts only Deployments where it verifies.
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_IDENTITY_SIGNATURE =
  'mlflow.org/identity-signature';

/**
 * How the tracking server admits requests: {@link AUTH_MODE_BASIC_AUTH} (MLflow's basic-auth app,
 * the default) or {@link AUTH_MODE_ANONYMOUS} (anyone who reaches it, never in prod).
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_AUTH_MODE = 'mlflow.org/auth-mode';
/**
 * Value of {@link DEPLOYMENT_ANNOTATION_AUTH_MODE}: sign-in required.
 *
 * @public
 */
export const AUTH_MODE_BASIC_AUTH = 'basic-auth';
/**
 * Value of {@link DEPLOYMENT_ANNOTATION_AUTH_MODE}: no sign-in (`allowAnonymousAccess`).
 *
 * @public
 */
export const AUTH_MODE_ANONYMOUS = 'anonymous';
/**
 * Name of the Secret (in the instance's namespace) holding the admin login of the basic-auth app;
 * only its name is ever shown.
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_AUTH_ADMIN_SECRET =
  'mlflow.org/auth-admin-secret';
/**
 * Name of the Secret (in the instance's namespace) holding `username` and `password` of the
 * low-privilege MLflow user of Backstage's deep health check.
 *
 * @public
 */
export const DEPLOYMENT_ANNOTATION_HEALTH_SECRET = 'mlflow.org/health-secret';

/**
 * Label selecting MLflow Deployments, the standard Kubernetes name label.
 *
 * @public
 */
export const LABEL_APP_NAME = 'app.kubernetes.io/name';
/**
 * Value of {@link LABEL_APP_NAME} on MLflow tracking servers.
 *
 * @public
 */
export const LABEL_APP_NAME_MLFLOW = 'mlflow';
/**
 * Standard instance label: the MLflow instance name (the catalog Component name).
 *
 * @public
 */
export const LABEL_APP_INSTANCE = 'app.kubernetes.io/instance';
/**
 * Standard part-of label, set to the instance's system when it has one.
 *
 * @public
 */
export const LABEL_APP_PART_OF = 'app.kubernetes.io/part-of';
/**
 * Standard managed-by label.
 *
 * @public
 */
export const LABEL_APP_MANAGED_BY = 'app.kubernetes.io/managed-by';
/**
 * Value of {@link LABEL_APP_MANAGED_BY} on everything this project creates.
 *
 * @public
 */
export const MANAGED_BY_STATEFUL_MLFLOW = 'backstage-stateful-mlflow';

/**
 * Tag (AWS) and label (Kubernetes) marking resources created by these plugins.
 *
 * @public
 */
export const OWNERSHIP_TAG_KEY = 'stateful-mlflow/instance';

/**
 * The core Kubernetes plugin's label-selector annotation; set on adopted instances, whose Deployments
 * lack the `backstage.io/kubernetes-id` label.
 *
 * @public
 */
export const ANNOTATION_KUBERNETES_LABEL_SELECTOR =
  'backstage.io/kubernetes-label-selector';

/**
 * `'true'` on entities of an MLflow instance that was installed by other means (e.g. a Helm chart) and
 * adopted by the catalog module: only what its labels and pod spec tell is annotated, the rest is unknown.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_ADOPTED = 'mlflow.org/adopted';

/**
 * AWS account (12 digits) holding the instance's RDS database and S3 bucket; absent: the main account.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_AWS_ACCOUNT_ID = 'mlflow.org/aws-account-id';

/**
 * `'true'` on entities the MLflow entity provider emitted from a Deployment the deploy action wrote
 * (its signature verified). Only then do health checks use the entity's AWS identifiers and
 * tracking URL.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_TRUSTED = 'mlflow.org/trusted';

/**
 * How the tracking server authenticates users: `basic-auth` (MLflow's basic-auth app) or
 * `anonymous` (no authentication, only with an explicit `allowAnonymousAccess`).
 *
 * @public
 */
export const ANNOTATION_MLFLOW_AUTH_MODE = 'mlflow.org/auth-mode';

/**
 * Values of {@link ANNOTATION_MLFLOW_AUTH_MODE}.
 *
 * @public
 */
export type MlflowAuthMode = 'basic-auth' | 'anonymous';

/**
 * Name (never the value) of the Secret in the instance's namespace holding the admin credentials
 * (`admin-username`, `admin-password`).
 *
 * @public
 */
export const ANNOTATION_MLFLOW_AUTH_ADMIN_SECRET =
  'mlflow.org/auth-admin-secret';

/**
 * Name (never the value) of the Secret in the instance's namespace holding the low-privilege user
 * (`username`, `password`) that Backstage's deep health check signs in with.
 *
 * @public
 */
export const ANNOTATION_MLFLOW_HEALTH_SECRET = 'mlflow.org/health-secret';
