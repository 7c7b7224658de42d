import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1EnvVar,
  V1Ingress,
  V1Job,
  V1Namespace,
  V1NetworkPolicy,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Probe,
  V1SecurityContext,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_MLFLOW_AWS_ACCOUNT_ID,
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_KUBERNETES_CLUSTER,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  ANNOTATION_MLFLOW_TRACKING_URL,
  DEPLOYMENT_ANNOTATION_DATABASE_NAME,
  DEPLOYMENT_ANNOTATION_DESCRIPTION,
  DEPLOYMENT_ANNOTATION_ENVIRONMENT,
  DEPLOYMENT_ANNOTATION_OWNER,
  DEPLOYMENT_ANNOTATION_SYSTEM,
  LABEL_APP_INSTANCE,
  LABEL_APP_MANAGED_BY,
  LABEL_APP_NAME,
  LABEL_APP_NAME_MLFLOW,
  LABEL_APP_PART_OF,
  MANAGED_BY_STATEFUL_MLFLOW,
  resolveInstanceNames,
} from '@stateful-mlflow/plugin-mlflow-common';
import { createHash } from 'node:crypto';

/** Port the tracking server listens on, in the pod and on the Service. */
export const MLFLOW_PORT = 5000;
/** Key of the backend-store URI in the database Secret written by mlflow:database:create. */
export const BACKEND_STORE_URI_KEY = 'MLFLOW_BACKEND_STORE_URI';
const LABEL_APP_COMPONENT = 'app.kubernetes.io/component';
const COMPONENT_SERVER = 'tracking-server';
const COMPONENT_MIGRATION = 'migration';
/** Connections kept free for the master user, RDS itself and operators. */
const RESERVED_DB_CONNECTIONS = 10;

/** Where the backend store URI comes from: the database Secret, or (ephemeral only) an inline sqlite URI. */
export type BackendStore =
  | { kind: 'secret'; secretName: string }
  | { kind: 'ephemeral'; uri: string };

/** Everything the manifests of one MLflow instance depend on. */
export type MlflowManifestOptions = {
  name: string;
  namespace: string;
  cluster: string;
  image: string;
  hostname: string;
  tlsSecretName?: string;
  ingressClassName?: string;
  environment: 'dev' | 'staging' | 'prod';
  replicas: number;
  workers: number;
  serviceAccountName: string;
  roleArn?: string;
  region?: string;
  /** AWS account holding the instance's database and bucket, when not the main account. */
  awsAccountId?: string;
  /** The instance's owner, recorded on every object so a rerun can check whose it is. */
  owner?: string;
  system?: string;
  description?: string;
  rdsInstanceId?: string;
  databaseName?: string;
  backendStore: BackendStore;
  /** `s3://bucket/prefix`, or a local path when the storage is ephemeral. */
  artifactsDestination: string;
  /** max_connections of the PostgreSQL instance; the SQLAlchemy pools are sized to stay under it. */
  dbMaxConnections: number;
  cpuRequest: string;
  memoryRequest: string;
  memoryLimit: string;
  /** Largest artifact upload through the Ingress, nginx syntax (`5g`). */
  proxyBodySize: string;
  proxyTimeoutSeconds: number;
  /** Namespace of the ingress controller, allowed through the NetworkPolicy. */
  ingressControllerNamespace: string;
  /** Other namespaces whose pods may call the tracking server directly. */
  allowedClientNamespaces: string[];
  /** Extra plain environment variables (not secrets), e.g. MLFLOW_S3_ENDPOINT_URL for S3-compatible stores. */
  extraEnv: Record<string, string>;
  runAsUser: number;
  /** Time the migration Job may take. */
  migrationTimeoutSeconds: number;
};

/** The objects of one MLflow instance, typed. `migrationJob` is absent for ephemeral storage. */
export type MlflowManifests = {
  namespace: V1Namespace;
  serviceAccount: V1ServiceAccount;
  configMap: V1ConfigMap;
  service: V1Service;
  networkPolicy: V1NetworkPolicy;
  podDisruptionBudget: V1PodDisruptionBudget;
  migrationJob?: V1Job;
  deployment: V1Deployment;
  ingress: V1Ingress;
  /** The public URL: https when a TLS secret is given. */
  trackingUrl: string;
  /** The in-cluster URL of the Service. */
  serviceUrl: string;
  /** SQLAlchemy pool size and overflow per server process. */
  pool: { size: number; maxOverflow: number };
};

/** SQLAlchemy pool per process such that every process at peak (rolling update, migration) fits max_connections. */
export function sizeConnectionPools(options: {
  dbMaxConnections: number;
  replicas: number;
  workers: number;
}): { size: number; maxOverflow: number } | undefined {
  // maxSurge 1 adds one pod during a rollout; the migration Job holds one connection.
  const processes = (options.replicas + 1) * options.workers + 1;
  const perProcess = Math.floor(
    (options.dbMaxConnections - RESERVED_DB_CONNECTIONS) / processes,
  );
  if (perProcess < 2) {
    return undefined;
  }
  const size = Math.min(10, Math.ceil(perProcess / 2));
  return { size, maxOverflow: Math.min(10, perProcess - size) };
}

/** Host headers the server accepts: the public host and every in-cluster name of the Service. */
export function allowedHosts(o: {
  hostname: string;
  name: string;
  namespace: string;
}): string[] {
  const names = [
    o.name,
    `${o.name}.${o.namespace}`,
    `${o.name}.${o.namespace}.svc`,
    `${o.name}.${o.namespace}.svc.cluster.local`,
  ];
  return [
    o.hostname,
    ...names.flatMap(n => [n, `${n}:${MLFLOW_PORT}`]),
    // kubelet probes send the Host header set on the probe.
    'localhost',
    `localhost:${MLFLOW_PORT}`,
  ];
}

function hash(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value))
    .digest('hex')
    .slice(0, 10);
}

/**
 * Renders the Kubernetes objects of one MLflow instance. The deploy action applies them, its
 * dry-run sends them with dryRun=All, the GitOps option writes them as YAML: one source.
 */
export function renderMlflowManifests(
  o: MlflowManifestOptions,
): MlflowManifests {
  const pool = sizeConnectionPools(o);
  if (!pool) {
    throw new Error(
      `${o.replicas} replicas × ${o.workers} workers do not fit in ${o.dbMaxConnections} database connections`,
    );
  }
  const commonLabels: Record<string, string> = {
    [LABEL_APP_INSTANCE]: o.name,
    [LABEL_APP_MANAGED_BY]: MANAGED_BY_STATEFUL_MLFLOW,
    [ANNOTATION_KUBERNETES_ID]: o.name,
    ...(o.system ? { [LABEL_APP_PART_OF]: o.system } : {}),
  };
  const serverSelector = {
    [LABEL_APP_NAME]: LABEL_APP_NAME_MLFLOW,
    [LABEL_APP_INSTANCE]: o.name,
    [LABEL_APP_COMPONENT]: COMPONENT_SERVER,
  };
  const serverLabels = { ...commonLabels, ...serverSelector };
  const migrationLabels = {
    ...commonLabels,
    [LABEL_APP_COMPONENT]: COMPONENT_MIGRATION,
  };
  const meta = (name: string, labels = commonLabels) => ({
    name,
    namespace: o.namespace,
    labels,
  });
  const trackingUrl = resolveInstanceNames({
    name: o.name,
    hostname: o.hostname,
    tlsSecretName: o.tlsSecretName,
  }).trackingUrl!;
  const serviceUrl = `http://${o.name}.${o.namespace}.svc.cluster.local:${MLFLOW_PORT}`;
  const configMapName = `${o.name}-config`;

  const configData: Record<string, string> = {
    ...o.extraEnv,
    HOME: '/tmp',
    PYTHONUNBUFFERED: '1',
    MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: String(pool.size),
    MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: String(pool.maxOverflow),
    MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE: '300',
    ...(o.region ? { AWS_REGION: o.region, AWS_DEFAULT_REGION: o.region } : {}),
  };

  const backendStoreEnv: V1EnvVar =
    o.backendStore.kind === 'secret'
      ? {
          name: BACKEND_STORE_URI_KEY,
          valueFrom: {
            secretKeyRef: {
              name: o.backendStore.secretName,
              key: BACKEND_STORE_URI_KEY,
            },
          },
        }
      : { name: BACKEND_STORE_URI_KEY, value: o.backendStore.uri };

  const containerSecurity: V1SecurityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
  const podSecurity: V1PodSpec['securityContext'] = {
    runAsNonRoot: true,
    runAsUser: o.runAsUser,
    runAsGroup: o.runAsUser,
    fsGroup: o.runAsUser,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const tmpVolume = { name: 'tmp', emptyDir: {} };
  const tmpMount = { name: 'tmp', mountPath: '/tmp' };
  const probeHeaders = [{ name: 'Host', value: 'localhost' }];
  const httpProbe = (path: string, extra: V1Probe): V1Probe => ({
    httpGet: { path, port: 'http', httpHeaders: probeHeaders },
    ...extra,
  });

  const namespace: V1Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: o.namespace, labels: commonLabels },
  };

  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      ...meta(o.serviceAccountName),
      ...(o.roleArn
        ? { annotations: { 'eks.amazonaws.com/role-arn': o.roleArn } }
        : {}),
    },
  };

  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMapName),
    data: configData,
  };

  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(o.name, serverLabels),
    spec: {
      type: 'ClusterIP',
      selector: serverSelector,
      ports: [
        {
          name: 'http',
          port: MLFLOW_PORT,
          targetPort: 'http',
          protocol: 'TCP',
        },
      ],
    },
  };

  const networkPolicy: V1NetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(o.name),
    spec: {
      podSelector: { matchLabels: serverSelector },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          _from: [
            ...[o.ingressControllerNamespace, ...o.allowedClientNamespaces].map(
              ns => ({
                namespaceSelector: {
                  matchLabels: { 'kubernetes.io/metadata.name': ns },
                },
              }),
            ),
            { podSelector: {} },
          ],
          ports: [{ protocol: 'TCP', port: MLFLOW_PORT }],
        },
      ],
      egress: [
        // DNS, PostgreSQL (RDS addresses are not stable) and HTTPS (S3, STS).
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { ports: [{ protocol: 'TCP', port: 5432 }] },
        { ports: [{ protocol: 'TCP', port: 443 }] },
      ],
    },
  };

  const podDisruptionBudget: V1PodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(o.name, serverLabels),
    spec: { maxUnavailable: 1, selector: { matchLabels: serverSelector } },
  };

  const migrationTemplate: V1PodTemplateSpec = {
    metadata: { labels: migrationLabels },
    spec: {
      restartPolicy: 'Never',
      serviceAccountName: o.serviceAccountName,
      automountServiceAccountToken: false,
      securityContext: podSecurity,
      volumes: [tmpVolume],
      containers: [
        {
          name: 'db-upgrade',
          image: o.image,
          command: ['mlflow'],
          // `mlflow db upgrade` takes the URL only as an argument (its env fallback does not
          // apply), so this short-lived process is the one place the URI is expanded into argv.
          args: ['db', 'upgrade', `$(${BACKEND_STORE_URI_KEY})`],
          env: [backendStoreEnv],
          envFrom: [{ configMapRef: { name: configMapName } }],
          securityContext: containerSecurity,
          volumeMounts: [tmpMount],
          terminationMessagePolicy: 'FallbackToLogsOnError',
          resources: {
            requests: { cpu: '100m', memory: '256Mi' },
            limits: { memory: o.memoryLimit },
          },
        },
      ],
    },
  };
  const migrationJob: V1Job | undefined =
    o.backendStore.kind === 'secret'
      ? {
          apiVersion: 'batch/v1',
          kind: 'Job',
          // A Job's pod template is immutable: a changed template (a new image) gets a new Job.
          metadata: meta(
            `${o.name}-db-upgrade-${hash(migrationTemplate)}`,
            migrationLabels,
          ),
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: o.migrationTimeoutSeconds,
            ttlSecondsAfterFinished: 86400,
            template: migrationTemplate,
          },
        }
      : undefined;

  const annotations: Record<string, string> = {
    [ANNOTATION_MLFLOW_TRACKING_URL]: trackingUrl,
    [ANNOTATION_MLFLOW_KUBERNETES_CLUSTER]: o.cluster,
    [DEPLOYMENT_ANNOTATION_ENVIRONMENT]: o.environment,
  };
  const optionalAnnotations: Array<[string, string | undefined]> = [
    [ANNOTATION_MLFLOW_AWS_REGION, o.region],
    [ANNOTATION_MLFLOW_AWS_ACCOUNT_ID, o.awsAccountId],
    [ANNOTATION_MLFLOW_RDS_INSTANCE_ID, o.rdsInstanceId],
    [
      ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
      o.artifactsDestination.startsWith('s3://')
        ? o.artifactsDestination
        : undefined,
    ],
    [DEPLOYMENT_ANNOTATION_OWNER, o.owner],
    [DEPLOYMENT_ANNOTATION_SYSTEM, o.system],
    [DEPLOYMENT_ANNOTATION_DESCRIPTION, o.description],
    [DEPLOYMENT_ANNOTATION_DATABASE_NAME, o.databaseName],
  ];
  for (const [key, value] of optionalAnnotations) {
    if (value) {
      annotations[key] = value;
    }
  }

  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...meta(o.name, serverLabels), annotations },
    spec: {
      replicas: o.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: serverSelector },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      },
      template: {
        metadata: {
          labels: serverLabels,
          // A changed ConfigMap rolls the pods.
          annotations: { 'mlflow.org/config-hash': hash(configData) },
        },
        spec: {
          serviceAccountName: o.serviceAccountName,
          securityContext: podSecurity,
          terminationGracePeriodSeconds: 60,
          volumes: [tmpVolume],
          containers: [
            {
              name: 'mlflow',
              image: o.image,
              command: ['mlflow'],
              args: [
                // The backend store comes from MLFLOW_BACKEND_STORE_URI, which `mlflow server`
                // reads itself: as an argument its password would show in the node's process list.
                'server',
                '--artifacts-destination',
                o.artifactsDestination,
                '--serve-artifacts',
                '--host',
                '0.0.0.0',
                '--port',
                String(MLFLOW_PORT),
                '--workers',
                String(o.workers),
                '--allowed-hosts',
                allowedHosts(o).join(','),
              ],
              ports: [
                { name: 'http', containerPort: MLFLOW_PORT, protocol: 'TCP' },
              ],
              env: [backendStoreEnv],
              envFrom: [{ configMapRef: { name: configMapName } }],
              // /health is a static OK; readiness reads from the database through the REST API.
              startupProbe: httpProbe('/health', {
                periodSeconds: 5,
                failureThreshold: 60,
                timeoutSeconds: 3,
              }),
              readinessProbe: httpProbe(
                '/api/2.0/mlflow/experiments/search?max_results=1',
                { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
              ),
              livenessProbe: httpProbe('/health', {
                periodSeconds: 20,
                failureThreshold: 3,
                timeoutSeconds: 5,
              }),
              resources: {
                requests: { cpu: o.cpuRequest, memory: o.memoryRequest },
                limits: { memory: o.memoryLimit },
              },
              securityContext: containerSecurity,
              volumeMounts: [tmpMount],
            },
          ],
        },
      },
    },
  };

  const ingress: V1Ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      ...meta(o.name),
      annotations: {
        // Artifact uploads go through the server (--serve-artifacts): large bodies, long requests.
        'nginx.ingress.kubernetes.io/proxy-body-size': o.proxyBodySize,
        'nginx.ingress.kubernetes.io/proxy-read-timeout': String(
          o.proxyTimeoutSeconds,
        ),
        'nginx.ingress.kubernetes.io/proxy-send-timeout': String(
          o.proxyTimeoutSeconds,
        ),
        'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
      },
    },
    spec: {
      ...(o.ingressClassName ? { ingressClassName: o.ingressClassName } : {}),
      ...(o.tlsSecretName
        ? { tls: [{ hosts: [o.hostname], secretName: o.tlsSecretName }] }
        : {}),
      rules: [
        {
          host: o.hostname,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: o.name, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  };

  const manifests: MlflowManifests = {
    namespace,
    serviceAccount,
    configMap,
    service,
    networkPolicy,
    podDisruptionBudget,
    migrationJob,
    deployment,
    ingress,
    trackingUrl,
    serviceUrl,
    pool,
  };
  if (o.owner) {
    for (const object of manifestsInApplyOrder(manifests)) {
      object.metadata!.annotations = {
        ...object.metadata!.annotations,
        [DEPLOYMENT_ANNOTATION_OWNER]: o.owner,
      };
    }
  }
  return manifests;
}

/** The objects in the order they are applied: the migration Job before the Deployment rolls. */
export function manifestsInApplyOrder(m: MlflowManifests): KubernetesObject[] {
  return [
    m.namespace,
    m.serviceAccount,
    m.configMap,
    m.service,
    m.networkPolicy,
    m.podDisruptionBudget,
    ...(m.migrationJob ? [m.migrationJob] : []),
    m.deployment,
    m.ingress,
  ];
}
