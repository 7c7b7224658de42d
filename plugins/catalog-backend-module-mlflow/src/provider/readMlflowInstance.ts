import { DEFAULT_NAMESPACE } from '@backstage/catalog-model';
import { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_MLFLOW_AUTH_ADMIN_SECRET,
  ANNOTATION_MLFLOW_AUTH_MODE,
  ANNOTATION_MLFLOW_HEALTH_SECRET,
  BACKEND_STORE_URI_KEY,
  LABEL_APP_INSTANCE,
  MlflowAuthMode,
  nameRules,
  parseMlflowAuthMode,
  parseS3Uri,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowInstanceIdentity } from '@stateful-mlflow/plugin-mlflow-node';
import { normalizeEntityRef } from './normalizeEntityRef';

/** How far the catalog trusts what a Deployment says about itself. */
export type MlflowTrust =
  /** Signed by the deploy action for this place: owner, system, links and AWS identifiers are used. */
  | 'verified'
  /** Unsigned, in a namespace the operator adopts: owner from config, facts only from the pod spec. */
  | 'adopted';

/** What one MLflow Deployment tells about its instance; undefined means unknown. */
export type MlflowInstance = {
  cluster: string;
  namespace: string;
  deploymentName: string;
  /** The `app.kubernetes.io/instance` label, else the Deployment name. */
  instanceName: string;
  trust: MlflowTrust;
  /** Owner entity ref: the signed one (verified) or the adopt rule's (adopted). */
  owner: string;
  /** Catalog namespace of the entities: `default` when verified, the adopt rule's otherwise. */
  entityNamespace: string;
  createdAt?: string;
  /** Value of `backstage.io/kubernetes-id` for the core Kubernetes tab, when known. */
  kubernetesId?: string;
  /** Whether the Deployment has the `app.kubernetes.io/instance` label, for a label selector. */
  hasInstanceLabel: boolean;
  trackingUrl?: string;
  awsAccountId?: string;
  awsRegion?: string;
  rdsInstanceId?: string;
  artifactRoot?: string;
  databaseName?: string;
  system?: string;
  description?: string;
  environment?: string;
  /** How the server authenticates, and the names (never values) of its admin and health Secrets. */
  authMode?: MlflowAuthMode;
  authAdminSecret?: string;
  healthSecret?: string;
};

const ARTIFACT_FLAGS = ['--default-artifact-root', '--artifacts-destination'];
const BACKEND_STORE_FLAG = '--backend-store-uri';
const ARTIFACT_ENV = [
  'MLFLOW_DEFAULT_ARTIFACT_ROOT',
  'MLFLOW_ARTIFACTS_DESTINATION',
];
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
      nonEmpty(env.get(BACKEND_STORE_URI_KEY)),
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

function placeOf(cluster: string, deployment: V1Deployment) {
  const metadata = deployment.metadata ?? {};
  const deploymentName = metadata.name ?? '';
  const instanceLabel = nonEmpty(metadata.labels?.[LABEL_APP_INSTANCE]);
  return {
    cluster,
    namespace: metadata.namespace ?? 'default',
    deploymentName,
    instanceName: instanceLabel ?? deploymentName,
    hasInstanceLabel: Boolean(instanceLabel),
    createdAt: metadata.creationTimestamp
      ? new Date(metadata.creationTimestamp).toISOString()
      : undefined,
  };
}

/** A Secret name from an annotation, when it is a valid Kubernetes object name. */
function secretName(value: string | undefined): string | undefined {
  const name = nonEmpty(value);
  return name && nameRules.kubernetesName.check(name) === undefined
    ? name
    : undefined;
}

/**
 * The authentication annotations the deploy action writes. They are outside the signature: the
 * health check proves the mode itself (an anonymous request must be refused), and the Secret names
 * only say where Backstage may look, which the namespace's RBAC narrows to one Secret.
 */
function readAuthAnnotations(deployment: V1Deployment) {
  const annotations = deployment.metadata?.annotations ?? {};
  return {
    authMode: parseMlflowAuthMode(
      nonEmpty(annotations[ANNOTATION_MLFLOW_AUTH_MODE]),
    ),
    authAdminSecret: secretName(
      annotations[ANNOTATION_MLFLOW_AUTH_ADMIN_SECRET],
    ),
    healthSecret: secretName(annotations[ANNOTATION_MLFLOW_HEALTH_SECRET]),
  };
}

/**
 * A Deployment whose signature verified: every fact comes from the signed identity, nothing from
 * unsigned labels or annotations.
 */
export function verifiedMlflowInstance(
  deployment: V1Deployment,
  identity: MlflowInstanceIdentity,
  defaultOwner: string,
): MlflowInstance {
  return {
    ...placeOf(identity.cluster, deployment),
    instanceName: identity.instanceName,
    trust: 'verified',
    owner: normalizeEntityRef(identity.owner, 'group') ?? defaultOwner,
    entityNamespace: DEFAULT_NAMESPACE,
    // The deploy action labels every object of the instance with its name.
    kubernetesId: identity.instanceName,
    trackingUrl: identity.trackingUrl,
    awsAccountId: identity.awsAccountId,
    awsRegion: identity.awsRegion,
    rdsInstanceId: identity.rdsInstanceId,
    artifactRoot: identity.s3ArtifactRoot,
    databaseName: identity.databaseName,
    system: identity.system,
    description: identity.description,
    environment: identity.environment,
    ...readAuthAnnotations(deployment),
  };
}

/**
 * An unsigned Deployment in an adopted namespace. Its annotations are ignored (anyone who can write
 * in the namespace can write them, or copy them from a real instance): the owner and catalog
 * namespace come from the adopt rule, the facts only from what the server is actually started with
 * (pod spec) and from its Ingress.
 */
export function adoptedMlflowInstance(
  cluster: string,
  deployment: V1Deployment,
  ingresses: V1Ingress[],
  rule: { owner: string; entityNamespace: string },
): MlflowInstance {
  const place = placeOf(cluster, deployment);
  return {
    ...place,
    trust: 'adopted',
    owner: rule.owner,
    entityNamespace: rule.entityNamespace,
    kubernetesId: nonEmpty(
      deployment.metadata?.labels?.[ANNOTATION_KUBERNETES_ID],
    ),
    ...readPodSpec(deployment),
    trackingUrl: readIngressUrl(ingresses, place.namespace, place.instanceName),
  };
}
