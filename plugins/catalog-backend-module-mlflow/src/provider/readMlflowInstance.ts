import { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import {
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  ANNOTATION_MLFLOW_TRACKING_URL,
  ANNOTATION_KUBERNETES_ID,
  DEPLOYMENT_ANNOTATION_DATABASE_NAME,
  DEPLOYMENT_ANNOTATION_DESCRIPTION,
  DEPLOYMENT_ANNOTATION_ENVIRONMENT,
  DEPLOYMENT_ANNOTATION_OWNER,
  DEPLOYMENT_ANNOTATION_SYSTEM,
  LABEL_APP_INSTANCE,
  LABEL_APP_MANAGED_BY,
  MANAGED_BY_STATEFUL_MLFLOW,
  parseS3Uri,
} from '@stateful-mlflow/plugin-mlflow-common';

/** What one MLflow Deployment tells about its instance; undefined means unknown. */
export type MlflowInstance = {
  cluster: string;
  namespace: string;
  deploymentName: string;
  /** The `app.kubernetes.io/instance` label, else the Deployment name. */
  instanceName: string;
  /** True when the instance was not created by these plugins (e.g. a Helm chart). */
  adopted: boolean;
  createdAt?: string;
  /** The `backstage.io/kubernetes-id` label of the Deployment. */
  kubernetesId?: string;
  /** Whether the Deployment has the `app.kubernetes.io/instance` label, for a label selector. */
  hasInstanceLabel: boolean;
  trackingUrl?: string;
  awsRegion?: string;
  rdsInstanceId?: string;
  artifactRoot?: string;
  databaseName?: string;
  owner?: string;
  system?: string;
  description?: string;
  environment?: string;
};

const ARTIFACT_FLAGS = ['--default-artifact-root', '--artifacts-destination'];
const BACKEND_STORE_FLAG = '--backend-store-uri';
const ARTIFACT_ENV = [
  'MLFLOW_DEFAULT_ARTIFACT_ROOT',
  'MLFLOW_ARTIFACTS_DESTINATION',
];
const BACKEND_STORE_ENV = 'MLFLOW_BACKEND_STORE_URI';
const REGION_ENV = ['AWS_REGION', 'AWS_DEFAULT_REGION'];
const RDS_HOST =
  /^([a-z][a-z0-9-]*)\.[a-z0-9]+\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com$/;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The value of `--flag value` or `--flag=value` in an argument list; unresolved `$(VAR)` counts as unknown. */
function flagValue(args: string[], flags: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    for (const flag of flags) {
      let value: string | undefined;
      if (args[i] === flag) {
        value = args[i + 1];
      } else if (args[i].startsWith(`${flag}=`)) {
        value = args[i].slice(flag.length + 1);
      }
      if (value !== undefined) {
        return value.includes('$(') ? undefined : nonEmpty(value);
      }
    }
  }
  return undefined;
}

/** What the pod spec of an adopted Deployment tells; values from Secrets (valueFrom) stay unknown. */
function readPodSpec(deployment: V1Deployment) {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const args: string[] = [];
  const env = new Map<string, string>();
  for (const container of containers) {
    // A shell wrapper (`sh -c "mlflow server …"`) passes the flags inside one string.
    for (const part of [
      ...(container.command ?? []),
      ...(container.args ?? []),
    ]) {
      args.push(...part.split(/\s+/).filter(Boolean));
    }
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) {
        env.set(variable.name, variable.value);
      }
    }
  }

  const artifactValue =
    flagValue(args, ARTIFACT_FLAGS) ??
    ARTIFACT_ENV.map(name => nonEmpty(env.get(name))).find(Boolean);
  const artifactRoot =
    artifactValue && parseS3Uri(artifactValue) ? artifactValue : undefined;

  const backendStore = readBackendStoreUri(
    flagValue(args, [BACKEND_STORE_FLAG]) ??
      nonEmpty(env.get(BACKEND_STORE_ENV)),
  );
  const envRegion = REGION_ENV.map(name => nonEmpty(env.get(name))).find(
    Boolean,
  );
  return {
    artifactRoot,
    rdsInstanceId: backendStore?.rdsInstanceId,
    databaseName: backendStore?.databaseName,
    awsRegion: backendStore?.awsRegion ?? envRegion,
  };
}

/**
 * The RDS instance and database named by a literal backend store URI. Only the host and the path are
 * read: the user and password in the URI are never kept.
 */
function readBackendStoreUri(uri: string | undefined) {
  if (!uri) {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (!/^postgres(ql)?(\+\w+)?:$/.test(url.protocol)) {
    return undefined;
  }
  const rds = RDS_HOST.exec(url.hostname);
  return {
    rdsInstanceId: rds?.[1],
    awsRegion: rds?.[2],
    databaseName: nonEmpty(decodeURIComponent(url.pathname.replace(/^\//, ''))),
  };
}

/** The URL of the first Ingress rule of the instance, https when TLS covers its host. */
function readIngressUrl(
  ingresses: V1Ingress[],
  namespace: string,
  instanceName: string,
): string | undefined {
  for (const ingress of ingresses) {
    if (
      ingress.metadata?.namespace !== namespace ||
      ingress.metadata?.labels?.[LABEL_APP_INSTANCE] !== instanceName
    ) {
      continue;
    }
    const host = ingress.spec?.rules?.find(rule => rule.host)?.host;
    if (host && !host.includes('*')) {
      const tls = ingress.spec?.tls?.some(t => t.hosts?.includes(host));
      return `${tls ? 'https' : 'http'}://${host}`;
    }
  }
  return undefined;
}

/**
 * Reads an MLflow Deployment. Instances created by the deploy action carry every fact as an
 * annotation; for others (adopted), annotations still win, and the pod spec and Ingress fill what
 * they can.
 */
export function readMlflowInstance(
  cluster: string,
  deployment: V1Deployment,
  ingresses: V1Ingress[],
): MlflowInstance {
  const metadata = deployment.metadata ?? {};
  const labels = metadata.labels ?? {};
  const annotations = metadata.annotations ?? {};
  const namespace = metadata.namespace ?? 'default';
  const deploymentName = metadata.name ?? '';
  const instanceName = nonEmpty(labels[LABEL_APP_INSTANCE]) ?? deploymentName;
  const adopted = labels[LABEL_APP_MANAGED_BY] !== MANAGED_BY_STATEFUL_MLFLOW;
  const inferred: Partial<ReturnType<typeof readPodSpec>> & {
    trackingUrl?: string;
  } = adopted
    ? {
        ...readPodSpec(deployment),
        trackingUrl: readIngressUrl(ingresses, namespace, instanceName),
      }
    : {};
  const annotation = (key: string) => nonEmpty(annotations[key]);

  return {
    cluster,
    namespace,
    deploymentName,
    instanceName,
    adopted,
    createdAt: metadata.creationTimestamp
      ? new Date(metadata.creationTimestamp).toISOString()
      : undefined,
    kubernetesId: nonEmpty(labels[ANNOTATION_KUBERNETES_ID]),
    hasInstanceLabel: Boolean(nonEmpty(labels[LABEL_APP_INSTANCE])),
    trackingUrl:
      annotation(ANNOTATION_MLFLOW_TRACKING_URL) ?? inferred.trackingUrl,
    awsRegion: annotation(ANNOTATION_MLFLOW_AWS_REGION) ?? inferred.awsRegion,
    rdsInstanceId:
      annotation(ANNOTATION_MLFLOW_RDS_INSTANCE_ID) ?? inferred.rdsInstanceId,
    artifactRoot:
      annotation(ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT) ?? inferred.artifactRoot,
    databaseName:
      annotation(DEPLOYMENT_ANNOTATION_DATABASE_NAME) ?? inferred.databaseName,
    owner: annotation(DEPLOYMENT_ANNOTATION_OWNER),
    system: annotation(DEPLOYMENT_ANNOTATION_SYSTEM),
    description: annotation(DEPLOYMENT_ANNOTATION_DESCRIPTION),
    environment: annotation(DEPLOYMENT_ANNOTATION_ENVIRONMENT),
  };
}
