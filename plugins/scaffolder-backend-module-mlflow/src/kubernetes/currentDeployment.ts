import type {
  V1Deployment,
  V1Ingress,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import {
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  ANNOTATION_MLFLOW_TRACKING_URL,
  AUTH_MODE_ANONYMOUS,
  BACKEND_STORE_URI_KEY,
  DEPLOYMENT_ANNOTATION_AUTH_ADMIN_SECRET,
  DEPLOYMENT_ANNOTATION_AUTH_MODE,
  DEPLOYMENT_ANNOTATION_DATABASE_NAME,
  DEPLOYMENT_ANNOTATION_DESCRIPTION,
  DEPLOYMENT_ANNOTATION_ENVIRONMENT,
  DEPLOYMENT_ANNOTATION_HEALTH_SECRET,
  DEPLOYMENT_ANNOTATION_OWNER,
  DEPLOYMENT_ANNOTATION_SYSTEM,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowKubernetesApi } from './kubernetesApi';

/** What an instance runs today, read back from the objects the deploy action wrote. */
export type CurrentDeployment = {
  image: string;
  replicas: number;
  workers?: number;
  cpuRequest?: string;
  memoryRequest?: string;
  memoryLimit?: string;
  hostname: string;
  trackingUrl: string;
  ingressClassName?: string;
  tlsSecretName?: string;
  tlsClusterIssuer?: string;
  roleArn?: string;
  region?: string;
  owner?: string;
  system?: string;
  description?: string;
  environment?: string;
  rdsInstanceId?: string;
  databaseName?: string;
  databaseSecretName?: string;
  authSecretName?: string;
  healthSecretName?: string;
  allowAnonymousAccess: boolean;
  artifactsDestination?: string;
};

function argAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The server Deployment's settings, with its Ingress and ServiceAccount. Read-only. */
export async function readCurrentDeployment(options: {
  api: MlflowKubernetesApi;
  name: string;
  namespace: string;
}): Promise<CurrentDeployment | undefined> {
  const { api, name, namespace } = options;
  const deployment = await api.read<V1Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name,
    namespace,
  });
  const container =
    deployment?.spec?.template?.spec?.containers?.find(
      c => c.name === 'mlflow',
    ) ?? deployment?.spec?.template?.spec?.containers?.[0];
  if (!deployment || !container?.image) {
    return undefined;
  }
  const annotations = deployment.metadata?.annotations ?? {};
  const args = container.args ?? [];
  const ingress = await api.read<V1Ingress>({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    name,
    namespace,
  });
  const serviceAccountName =
    deployment.spec?.template?.spec?.serviceAccountName;
  const serviceAccount = serviceAccountName
    ? await api.read<V1ServiceAccount>({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        name: serviceAccountName,
        namespace,
      })
    : undefined;
  const trackingUrl = annotations[ANNOTATION_MLFLOW_TRACKING_URL] ?? '';
  const databaseSecretName = container.env?.find(
    e => e.name === BACKEND_STORE_URI_KEY,
  )?.valueFrom?.secretKeyRef?.name;
  const workers = argAfter(args, '--workers');
  const authMode = annotations[DEPLOYMENT_ANNOTATION_AUTH_MODE];
  return {
    image: container.image,
    replicas: deployment.spec?.replicas ?? 1,
    workers: workers ? Number(workers) : undefined,
    cpuRequest: container.resources?.requests?.cpu,
    memoryRequest: container.resources?.requests?.memory,
    memoryLimit: container.resources?.limits?.memory,
    hostname:
      ingress?.spec?.rules?.[0]?.host ??
      trackingUrl.replace(/^https?:\/\//, ''),
    trackingUrl,
    ingressClassName: ingress?.spec?.ingressClassName,
    tlsClusterIssuer:
      ingress?.metadata?.annotations?.['cert-manager.io/cluster-issuer'],
    tlsSecretName: ingress?.metadata?.annotations?.[
      'cert-manager.io/cluster-issuer'
    ]
      ? undefined
      : ingress?.spec?.tls?.[0]?.secretName,
    roleArn:
      serviceAccount?.metadata?.annotations?.['eks.amazonaws.com/role-arn'],
    region: annotations[ANNOTATION_MLFLOW_AWS_REGION],
    owner: annotations[DEPLOYMENT_ANNOTATION_OWNER],
    system: annotations[DEPLOYMENT_ANNOTATION_SYSTEM],
    description: annotations[DEPLOYMENT_ANNOTATION_DESCRIPTION],
    environment: annotations[DEPLOYMENT_ANNOTATION_ENVIRONMENT],
    rdsInstanceId: annotations[ANNOTATION_MLFLOW_RDS_INSTANCE_ID],
    databaseName: annotations[DEPLOYMENT_ANNOTATION_DATABASE_NAME],
    databaseSecretName,
    authSecretName: annotations[DEPLOYMENT_ANNOTATION_AUTH_ADMIN_SECRET],
    healthSecretName: annotations[DEPLOYMENT_ANNOTATION_HEALTH_SECRET],
    allowAnonymousAccess: authMode === AUTH_MODE_ANONYMOUS,
    artifactsDestination:
      argAfter(args, '--artifacts-destination') ??
      annotations[ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT],
  };
}

/** The MLflow version an image tag names (`…:v3.17.2`, `…:3.17.2-full`), if it names one. */
export function mlflowVersionOfImage(image: string): string | undefined {
  const tag = /:([^/:@]+)(@.*)?$/.exec(image)?.[1];
  return tag ? /^v?(\d+\.\d+\.\d+)(?:-.*)?$/.exec(tag)?.[1] : undefined;
}
