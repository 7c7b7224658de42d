import {
  AppsV1Api,
  KubeConfig,
  NetworkingV1Api,
  V1Deployment,
  V1Ingress,
} from '@kubernetes/client-node';
import {
  LABEL_APP_NAME,
  LABEL_APP_NAME_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';

/**
 * The MLflow objects of one cluster.
 *
 * @public
 */
export type ClusterMlflowObjects = {
  deployments: V1Deployment[];
  ingresses: V1Ingress[];
};

/**
 * Lists the MLflow Deployments (and their Ingresses) of a cluster.
 *
 * @public
 */
export interface MlflowDeploymentLister {
  list(cluster: string): Promise<ClusterMlflowObjects>;
}

const MLFLOW_SELECTOR = `${LABEL_APP_NAME}=${LABEL_APP_NAME_MLFLOW}`;

/** Lists through the Kubernetes API, across all namespaces, by the `app.kubernetes.io/name=mlflow` label. */
export class KubernetesMlflowDeploymentLister
  implements MlflowDeploymentLister
{
  constructor(
    private readonly kubeConfigFor: (cluster: string) => KubeConfig,
    private readonly timeoutMs: number,
  ) {}

  async list(cluster: string): Promise<ClusterMlflowObjects> {
    const kc = this.kubeConfigFor(cluster);
    const apps = kc.makeApiClient(AppsV1Api);
    const networking = kc.makeApiClient(NetworkingV1Api);
    const timeoutSeconds = Math.max(1, Math.ceil(this.timeoutMs / 1000));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Listing MLflow Deployments in cluster ${cluster} timed out after ${timeoutSeconds} s`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      const [deployments, ingresses] = await Promise.race([
        Promise.all([
          apps.listDeploymentForAllNamespaces({
            labelSelector: MLFLOW_SELECTOR,
            timeoutSeconds,
          }),
          networking.listIngressForAllNamespaces({
            labelSelector: MLFLOW_SELECTOR,
            timeoutSeconds,
          }),
        ]),
        timeout,
      ]);
      return { deployments: deployments.items, ingresses: ingresses.items };
    } finally {
      clearTimeout(timer);
    }
  }
}
