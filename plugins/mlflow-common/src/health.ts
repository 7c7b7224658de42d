import type { MlflowAuthMode } from './annotations';

/**
 * Overall state of an instance, derived from its checks (rules in the mlflow-backend README).
 *
 * @public
 */
export type MlflowOverallStatus =
  | 'healthy'
  | 'degraded'
  | 'unhealthy'
  | 'unknown';

/**
 * State of one check.
 *
 * @public
 */
export type MlflowCheckStatus = 'ok' | 'warning' | 'error' | 'unknown';

/**
 * The four checks of a report, in display order.
 *
 * @public
 */
export const MLFLOW_CHECK_IDS = [
  'trackingServer',
  'database',
  'artifactStore',
  'kubernetes',
] as const;

/**
 * Id of one check.
 *
 * @public
 */
export type MlflowCheckId = (typeof MLFLOW_CHECK_IDS)[number];

/**
 * One compliance point of a backing store (encrypted, private, backups …).
 *
 * @public
 */
export type MlflowComplianceFlag = {
  id: string;
  label: string;
  ok: boolean;
  /** Whether an off flag degrades the check; some points apply only to production instances. */
  required?: boolean;
};

/**
 * What the tracking server check saw.
 *
 * @public
 */
export type MlflowTrackingServerDetails = {
  url: string;
  version?: string;
  /** `/health` answered OK (a static liveness answer). */
  live: boolean;
  /** A REST call that reads the backend store succeeded. */
  backendStoreReachable: boolean;
  /** The authentication mode the instance was deployed with (`mlflow.org/auth-mode`). */
  authMode?: MlflowAuthMode;
  /** Name of the Secret holding the admin credentials; never a value. */
  adminSecretName?: string;
  /** Authentication required, HTTPS on a non-local host. */
  compliance?: MlflowComplianceFlag[];
};

/**
 * What DescribeDBInstances said of the backend store.
 *
 * @public
 */
export type MlflowDatabaseDetails = {
  instanceId: string;
  region: string;
  /** The account the entity names (`mlflow.org/aws-account-id`), when not the main one. */
  accountId?: string;
  status?: string;
  engine?: string;
  engineVersion?: string;
  instanceClass?: string;
  allocatedStorageGiB?: number;
  endpoint?: string;
  port?: number;
  multiAz?: boolean;
  storageEncrypted?: boolean;
  publiclyAccessible?: boolean;
  backupRetentionDays?: number;
  deletionProtection?: boolean;
  /** Changes RDS holds for the maintenance window (DescribeDBInstances PendingModifiedValues). */
  pendingChanges?: MlflowPendingDatabaseChange[];
  /**
   * The newest snapshot of the instance (manual or automated); only in the report of one entity,
   * never in a fleet's. `null` when the instance has none.
   */
  lastSnapshot?: MlflowDatabaseSnapshot | null;
  compliance: MlflowComplianceFlag[];
};

/**
 * One setting RDS changes in the next maintenance window.
 *
 * @public
 */
export type MlflowPendingDatabaseChange = {
  /** The setting in words: "instance class", "allocated storage (GiB)" … */
  setting: string;
  /** The value today, when known. */
  current?: string;
  /** The value after the maintenance window. */
  pending: string;
};

/**
 * A snapshot of the backend store's RDS instance.
 *
 * @public
 */
export type MlflowDatabaseSnapshot = {
  id: string;
  /** When the snapshot was taken (ISO 8601); absent while RDS has not said. */
  createdAt?: string;
  /** `manual` or `automated`. */
  type?: string;
  /** `available`, `creating` … */
  status?: string;
};

/**
 * What S3 said of the artifact store.
 *
 * @public
 */
export type MlflowArtifactStoreDetails = {
  bucket: string;
  prefix: string;
  region: string;
  versioning?: 'Enabled' | 'Suspended' | 'Disabled';
  encryption?: string;
  publicAccessBlocked?: boolean;
  tlsOnlyPolicy?: boolean;
  compliance: MlflowComplianceFlag[];
};

/**
 * A Deployment condition, as Kubernetes reports it.
 *
 * @public
 */
export type MlflowDeploymentCondition = {
  type: string;
  status: string;
  reason?: string;
  message?: string;
};

/**
 * What Kubernetes said of the tracking server's Deployment.
 *
 * @public
 */
export type MlflowKubernetesDetails = {
  cluster: string;
  namespace: string;
  deployment: string;
  replicas: {
    desired: number;
    ready: number;
    updated: number;
    available: number;
  };
  image?: string;
  conditions: MlflowDeploymentCondition[];
  ingressHost?: string;
};

/**
 * Details by check id.
 *
 * @public
 */
export type MlflowCheckDetailsById = {
  trackingServer: MlflowTrackingServerDetails;
  database: MlflowDatabaseDetails;
  artifactStore: MlflowArtifactStoreDetails;
  kubernetes: MlflowKubernetesDetails;
};

/**
 * One check of a report. `details` is absent when the check could not run at all.
 *
 * @public
 */
export type MlflowHealthCheck<TId extends MlflowCheckId = MlflowCheckId> = {
  [K in TId]: {
    id: K;
    status: MlflowCheckStatus;
    summary: string;
    details?: MlflowCheckDetailsById[K];
    latencyMs: number;
  };
}[TId];

/**
 * A link shown with a report.
 *
 * @public
 */
export type MlflowLink = { title: string; url: string };

/**
 * The health report of one instance (GET /v1/health/:namespace/:kind/:name).
 *
 * @public
 */
export type MlflowHealthReport = {
  entityRef: string;
  overall: MlflowOverallStatus;
  checkedAt: string;
  checks: MlflowHealthCheck[];
  links: MlflowLink[];
};

/**
 * Body of the fleet request (POST /v1/health).
 *
 * @public
 */
export type MlflowFleetHealthRequest = { entityRefs: string[] };

/**
 * Answer of the fleet request: one item per requested ref, in order.
 *
 * @public
 */
export type MlflowFleetHealthResponse = {
  items: Array<
    | { entityRef: string; report: MlflowHealthReport }
    | { entityRef: string; error: { name: string; message: string } }
  >;
};
