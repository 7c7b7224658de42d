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
  V1Role,
  V1RoleBinding,
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
  AUTH_MODE_ANONYMOUS,
  AUTH_MODE_BASIC_AUTH,
  BACKEND_STORE_URI_KEY,
  DEPLOYMENT_ANNOTATION_AUTH_ADMIN_SECRET,
  DEPLOYMENT_ANNOTATION_AUTH_MODE,
  DEPLOYMENT_ANNOTATION_DATABASE_NAME,
  DEPLOYMENT_ANNOTATION_DESCRIPTION,
  DEPLOYMENT_ANNOTATION_ENVIRONMENT,
  DEPLOYMENT_ANNOTATION_HEALTH_SECRET,
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
import {
  AUTH_CONFIG_DIR,
  AUTH_CONFIG_FILE,
  AUTH_SECRET_KEYS,
  authMigrationScript,
  HEALTH_LOGIN_ENV,
  HEALTH_SECRET_KEYS,
} from './authSecrets';

/** Port the tracking server listens on, in the pod and on the Service. */
export const MLFLOW_PORT = 5000;
/** Key of the auth database's URI (no password) in the same Secret. */
export const AUTH_DATABASE_URI_KEY = 'MLFLOW_AUTH_DATABASE_URI';
/** Key of the database password in that Secret; libpq reads it from the environment. */
export const DATABASE_PASSWORD_KEY = 'PGPASSWORD';
const LABEL_APP_COMPONENT = 'app.kubernetes.io/component';
const COMPONENT_SERVER = 'tracking-server';
const COMPONENT_MIGRATION = 'migration';
/** Connections kept free for the master user, RDS itself and operators. */
const RESERVED_DB_CONNECTIONS = 10;

/** Where the backend store URI comes from: the database Secret, or (ephemeral only) an inline sqlite URI. */
export type BackendStore =
  | { kind: 'secret'; secretName: string }
  | { kind: 'ephemeral'; uri: string };

/**
 * Who may sign in: MLflow's basic-auth app with its config from the auth Secret, or anyone
 * (`allowAnonymousAccess`). `configHash` (of the Secret's basic_auth.ini) rolls the pods when it changes.
 */
export type MlflowAuth =
  | {
      mode: typeof AUTH_MODE_BASIC_AUTH;
      secretName: string;
      healthSecretName: string;
      configHash?: string;
    }
  | { mode: typeof AUTH_MODE_ANONYMOUS };

/**
 * The Kubernetes identity Backstage's health check reads the health Secret as.
 *
 * @public
 */
export type SecretReaderSubject = {
  kind: 'ServiceAccount' | 'User' | 'Group';
  name: string;
  /** Required for a ServiceAccount. */
  namespace?: string;
};

/** Everything the manifests of one MLflow instance depend on. */
export type MlflowManifestOptions = {
  name: string;
  namespace: string;
  cluster: string;
  image: string;
  hostname: string;
  tlsSecretName?: string;
  /** cert-manager ClusterIssuer that fills the Ingress's TLS Secret. */
  tlsClusterIssuer?: string;
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
  /**
   * No server of another image runs (a first start, or a rerun of the same image): both databases'
   * migrations run side by side. Otherwise (an upgrade) the tracking store is migrated first and
   * the sign-in database only after it succeeded, so a failed upgrade leaves the sign-in database
   * as the running server knows it.
   */
  migrationsSideBySide?: boolean;
  auth: MlflowAuth;
  /** Given: a Role and RoleBinding let this subject `get` the health Secret, and nothing else. */
  healthSecretReader?: SecretReaderSubject;
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
  /** Only with basic-auth and a configured reader: `get` on the health Secret alone. */
  healthSecretRole?: V1Role;
  healthSecretRoleBinding?: V1RoleBinding;
  /** The public URL: https when a TLS secret or issuer is given. */
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
  const { trackingUrl: resolvedTrackingUrl, ingressTlsSecretName } =
    resolveInstanceNames({
      name: o.name,
      hostname: o.hostname,
      tlsSecretName: o.tlsSecretName,
      tlsClusterIssuer: o.tlsClusterIssuer,
    });
  const trackingUrl = resolvedTrackingUrl!;
  const auth = o.auth.mode === AUTH_MODE_BASIC_AUTH ? o.auth : undefined;
  const serviceUrl = `http://${o.name}.${o.namespace}.svc.cluster.local:${MLFLOW_PORT}`;
  const configMapName = `${o.name}-config`;

  const configData: Record<string, string> = {
    // MLflow's job runner (a runner and seven huey consumers per pod, about 240 MB each) queues
    // its jobs on the pod's own /dev/shm, so a restart loses them, and runs the periodic tasks on
    // every replica: off, so a pod holds no state and fits its memory limit. extraEnv may turn it on.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
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
  const fromDatabaseSecret = (name: string, key: string): V1EnvVar[] =>
    o.backendStore.kind === 'secret'
      ? [
          {
            name,
            valueFrom: {
              secretKeyRef: { name: o.backendStore.secretName, key },
            },
          },
        ]
      : [];
  // The URIs carry no password: libpq takes it from PGPASSWORD.
  const databaseEnv: V1EnvVar[] = [
    backendStoreEnv,
    ...fromDatabaseSecret(DATABASE_PASSWORD_KEY, DATABASE_PASSWORD_KEY),
  ];
  // basic_auth.ini (admin password included) is a file from the auth Secret, never an argument.
  const authVolume = auth
    ? {
        name: 'auth-config',
        secret: {
          secretName: auth.secretName,
          items: [{ key: AUTH_SECRET_KEYS.config, path: AUTH_CONFIG_FILE }],
          defaultMode: 0o440,
        },
      }
    : undefined;
  const authEnv: V1EnvVar[] = auth
    ? [
        {
          name: 'MLFLOW_AUTH_CONFIG_PATH',
          value: `${AUTH_CONFIG_DIR}/${AUTH_CONFIG_FILE}`,
        },
        {
          name: 'MLFLOW_FLASK_SERVER_SECRET_KEY',
          valueFrom: {
            secretKeyRef: {
              name: auth.secretName,
              key: AUTH_SECRET_KEYS.flaskSecretKey,
            },
          },
        },
      ]
    : [];
  const authMount = {
    name: 'auth-config',
    mountPath: AUTH_CONFIG_DIR,
    readOnly: true,
  };

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

  const migrationContainer = (
    name: string,
    command: string[],
    args: string[],
  ) => ({
    name,
    image: o.image,
    command,
    args,
    env: databaseEnv,
    envFrom: [{ configMapRef: { name: configMapName } }],
    securityContext: containerSecurity,
    volumeMounts: [tmpMount],
    terminationMessagePolicy: 'FallbackToLogsOnError',
    resources: {
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { memory: o.memoryLimit },
    },
  });
  // `mlflow db upgrade` takes the URL only as an argument: it has no password (PGPASSWORD has).
  const trackingUpgrade = migrationContainer(
    'db-upgrade',
    ['mlflow'],
    ['db', 'upgrade', `$(${BACKEND_STORE_URI_KEY})`],
  );
  // The auth database is migrated here, once, before any replica starts: replicas starting
  // together on a fresh database would race each other's migrations. On a first start the two
  // (separate) databases are migrated side by side; on an upgrade the tracking store goes first.
  const healthLogin = (name: string, key: string): V1EnvVar => ({
    name,
    valueFrom: {
      secretKeyRef: { name: auth!.healthSecretName, key, optional: true },
    },
  });
  const authUpgrade = {
    ...migrationContainer(
      'auth-db-upgrade',
      ['python'],
      ['-c', authMigrationScript(AUTH_DATABASE_URI_KEY)],
    ),
    env: [
      ...databaseEnv,
      ...fromDatabaseSecret(AUTH_DATABASE_URI_KEY, AUTH_DATABASE_URI_KEY),
      ...(auth
        ? [
            healthLogin(HEALTH_LOGIN_ENV.username, HEALTH_SECRET_KEYS.username),
            healthLogin(HEALTH_LOGIN_ENV.password, HEALTH_SECRET_KEYS.password),
          ]
        : []),
    ],
  };
  let migrationContainers: Pick<V1PodSpec, 'initContainers' | 'containers'> = {
    containers: [trackingUpgrade],
  };
  if (auth) {
    migrationContainers = o.migrationsSideBySide
      ? { containers: [trackingUpgrade, authUpgrade] }
      : { initContainers: [trackingUpgrade], containers: [authUpgrade] };
  }
  const migrationTemplate: V1PodTemplateSpec = {
    metadata: { labels: migrationLabels },
    spec: {
      restartPolicy: 'Never',
      serviceAccountName: o.serviceAccountName,
      automountServiceAccountToken: false,
      securityContext: podSecurity,
      volumes: [tmpVolume],
      ...migrationContainers,
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
    [DEPLOYMENT_ANNOTATION_AUTH_MODE]: o.auth.mode,
    ...(auth
      ? {
          [DEPLOYMENT_ANNOTATION_AUTH_ADMIN_SECRET]: auth.secretName,
          [DEPLOYMENT_ANNOTATION_HEALTH_SECRET]: auth.healthSecretName,
        }
      : {}),
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
          annotations: {
            'mlflow.org/config-hash': hash(configData),
            ...(auth?.configHash
              ? { 'mlflow.org/auth-config-hash': auth.configHash }
              : {}),
          },
        },
        spec: {
          serviceAccountName: o.serviceAccountName,
          securityContext: podSecurity,
          terminationGracePeriodSeconds: 60,
          volumes: [tmpVolume, ...(authVolume ? [authVolume] : [])],
          containers: [
            {
              name: 'mlflow',
              image: o.image,
              command: ['mlflow'],
              args: [
                // The backend store comes from MLFLOW_BACKEND_STORE_URI, which `mlflow server`
                // reads itself: as an argument its password would show in the node's process list.
                'server',
                ...(auth ? ['--app-name', 'basic-auth'] : []),
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
              env: [...databaseEnv, ...authEnv],
              envFrom: [{ configMapRef: { name: configMapName } }],
              // /health is a static OK; readiness reads from the database through the REST API,
              // which answers 401 to the probe when sign-in is required: /health then, and
              // Backstage's health user proves the database.
              // The startup probe looks every second, so a started server is seen at once, and
              // allows 5 minutes (300 looks) before giving up, so a slow start never flaps.
              startupProbe: httpProbe('/health', {
                periodSeconds: 1,
                failureThreshold: 300,
                timeoutSeconds: 3,
              }),
              // Every 5 s, so the first look after startup comes soon on any kubelet; 6 misses
              // (30 s) before a replica leaves the Service, as before.
              readinessProbe: httpProbe(
                auth
                  ? '/health'
                  : '/api/2.0/mlflow/experiments/search?max_results=1',
                { periodSeconds: 5, failureThreshold: 6, timeoutSeconds: 5 },
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
              volumeMounts: [tmpMount, ...(auth ? [authMount] : [])],
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
        ...(o.tlsClusterIssuer
          ? { 'cert-manager.io/cluster-issuer': o.tlsClusterIssuer }
          : {}),
      },
    },
    spec: {
      ...(o.ingressClassName ? { ingressClassName: o.ingressClassName } : {}),
      ...(ingressTlsSecretName
        ? { tls: [{ hosts: [o.hostname], secretName: ingressTlsSecretName }] }
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

  const reader = auth ? o.healthSecretReader : undefined;
  const healthSecretRole: V1Role | undefined = reader
    ? {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta(`${o.name}-health-secret-reader`),
        rules: [
          {
            apiGroups: [''],
            resources: ['secrets'],
            resourceNames: [auth!.healthSecretName],
            verbs: ['get'],
          },
        ],
      }
    : undefined;
  const healthSecretRoleBinding: V1RoleBinding | undefined = reader
    ? {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta(`${o.name}-health-secret-reader`),
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: `${o.name}-health-secret-reader`,
        },
        subjects: [
          reader.kind === 'ServiceAccount'
            ? {
                kind: reader.kind,
                name: reader.name,
                namespace: reader.namespace,
              }
            : {
                apiGroup: 'rbac.authorization.k8s.io',
                kind: reader.kind,
                name: reader.name,
              },
        ],
      }
    : undefined;

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
    healthSecretRole,
    healthSecretRoleBinding,
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
    ...(m.healthSecretRole ? [m.healthSecretRole] : []),
    ...(m.healthSecretRoleBinding ? [m.healthSecretRoleBinding] : []),
    ...(m.migrationJob ? [m.migrationJob] : []),
    m.deployment,
    m.ingress,
  ];
}
