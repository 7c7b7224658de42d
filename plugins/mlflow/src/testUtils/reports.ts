import { Entity } from '@backstage/catalog-model';
import {
  MlflowHealthCheck,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';

/** A fixed point in time that the fixtures' `checkedAt` is relative to. */
export const FIXTURE_NOW = new Date('2026-11-26T05:00:00.000Z');

/** An entity as the catalog module emits it for the instance `mlflow-demo`. */
export const mlflowEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'mlflow-demo',
    namespace: 'default',
    annotations: {
      'mlflow.org/tracking-url': 'https://mlflow-demo.example.com',
      'mlflow.org/aws-region': 'eu-west-1',
      'mlflow.org/rds-instance-id': 'mlflow-demo-db',
      'mlflow.org/s3-artifact-root': 's3://mlflow-demo-artifacts/mlflow',
      'mlflow.org/kubernetes-cluster': 'local',
      'backstage.io/kubernetes-id': 'mlflow-demo',
      'backstage.io/kubernetes-namespace': 'mlflow-demo',
    },
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-ml' },
};

/** An entity that is not an MLflow instance. */
export const plainEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'billing', namespace: 'default' },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-billing' },
};

const okChecks: MlflowHealthCheck[] = [
  {
    id: 'trackingServer',
    status: 'ok',
    summary: 'MLflow 3.1.0 answers and reads its backend store',
    latencyMs: 42,
    details: {
      url: 'https://mlflow-demo.example.com',
      version: '3.1.0',
      live: true,
      backendStoreReachable: true,
    },
  },
  {
    id: 'database',
    status: 'ok',
    summary: 'postgres 16.4 db.t4g.micro available',
    latencyMs: 120,
    details: {
      instanceId: 'mlflow-demo-db',
      region: 'eu-west-1',
      status: 'available',
      engine: 'postgres',
      engineVersion: '16.4',
      instanceClass: 'db.t4g.micro',
      allocatedStorageGiB: 20,
      endpoint: 'mlflow-demo-db.abc123.eu-west-1.rds.amazonaws.com',
      port: 5432,
      multiAz: true,
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetentionDays: 7,
      deletionProtection: true,
      compliance: [
        { id: 'encrypted', label: 'Storage encrypted', ok: true },
        { id: 'private', label: 'Not publicly accessible', ok: true },
        { id: 'backups', label: 'Automated backups', ok: true },
        { id: 'deletionProtection', label: 'Deletion protection', ok: true },
      ],
    },
  },
  {
    id: 'artifactStore',
    status: 'ok',
    summary: 'Bucket mlflow-demo-artifacts reachable, versioned, encrypted',
    latencyMs: 80,
    details: {
      bucket: 'mlflow-demo-artifacts',
      prefix: 'mlflow',
      region: 'eu-west-1',
      versioning: 'Enabled',
      encryption: 'aws:kms',
      publicAccessBlocked: true,
      tlsOnlyPolicy: true,
      compliance: [
        { id: 'versioning', label: 'Versioning enabled', ok: true },
        { id: 'encrypted', label: 'Default encryption', ok: true },
        { id: 'publicAccessBlocked', label: 'Public access blocked', ok: true },
        { id: 'tlsOnly', label: 'TLS-only bucket policy', ok: true },
      ],
    },
  },
  {
    id: 'kubernetes',
    status: 'ok',
    summary: '2/2 replicas ready',
    latencyMs: 30,
    details: {
      cluster: 'local',
      namespace: 'mlflow-demo',
      deployment: 'mlflow-demo',
      replicas: { desired: 2, ready: 2, updated: 2, available: 2 },
      image: 'ghcr.io/mlflow/mlflow:v3.1.0',
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
        },
      ],
      ingressHost: 'mlflow-demo.example.com',
    },
  },
];

/** A report with every check OK, checked 12 s before {@link FIXTURE_NOW}. */
export const healthyReport: MlflowHealthReport = {
  entityRef: 'component:default/mlflow-demo',
  overall: 'healthy',
  checkedAt: new Date(FIXTURE_NOW.getTime() - 12_000).toISOString(),
  checks: okChecks,
  links: [
    { title: 'MLflow UI', url: 'https://mlflow-demo.example.com' },
    { title: 'Runbook', url: 'https://wiki.example.com/mlflow-runbook' },
  ],
};

/** Replaces one check of {@link healthyReport}. */
function withCheck(
  report: MlflowHealthReport,
  check: MlflowHealthCheck,
): MlflowHealthCheck[] {
  return report.checks.map(c => (c.id === check.id ? check : c));
}

/** One replica of two is down: still serving, degraded. */
export const degradedReport: MlflowHealthReport = {
  ...healthyReport,
  overall: 'degraded',
  checks: withCheck(healthyReport, {
    id: 'kubernetes',
    status: 'warning',
    summary: '1/2 replicas ready',
    latencyMs: 30,
    details: {
      cluster: 'local',
      namespace: 'mlflow-demo',
      deployment: 'mlflow-demo',
      replicas: { desired: 2, ready: 1, updated: 2, available: 1 },
      image: 'ghcr.io/mlflow/mlflow:v3.1.0',
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
        },
      ],
    },
  }),
};

/** The tracking server does not answer: the check ran but saw nothing. */
export const unhealthyReport: MlflowHealthReport = {
  ...healthyReport,
  overall: 'unhealthy',
  checks: withCheck(healthyReport, {
    id: 'trackingServer',
    status: 'error',
    summary: 'Connection refused at https://mlflow-demo.example.com/health',
    latencyMs: 3,
    details: {
      url: 'https://mlflow-demo.example.com',
      live: false,
      backendStoreReachable: false,
    },
  }),
};

/** No check could run (e.g. AWS and Kubernetes not configured). */
export const unknownReport: MlflowHealthReport = {
  entityRef: 'component:default/mlflow-demo',
  overall: 'unknown',
  checkedAt: healthyReport.checkedAt,
  checks: [
    {
      id: 'trackingServer',
      status: 'unknown',
      summary: 'Host mlflow-demo.example.com is not in mlflow.allowedHosts',
      latencyMs: 0,
    },
    {
      id: 'database',
      status: 'unknown',
      summary: 'No AWS credentials for eu-west-1',
      latencyMs: 0,
    },
    {
      id: 'artifactStore',
      status: 'unknown',
      summary: 'No AWS credentials for eu-west-1',
      latencyMs: 0,
    },
    {
      id: 'kubernetes',
      status: 'unknown',
      summary: 'Cluster local is not configured',
      latencyMs: 0,
    },
  ],
  links: [],
};
