import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
  V1Pod,
} from '@kubernetes/client-node';
import { eventually } from './eventually';

function isReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status?.conditions ?? []).some(
      c => c.type === 'Ready' && c.status === 'True',
    )
  );
}

function describePods(pods: V1Pod[]): string {
  return (
    pods
      .map(
        p =>
          `${p.metadata?.name} ${p.status?.phase ?? '?'}${
            p.metadata?.deletionTimestamp ? ' (terminating)' : ''
          }${isReady(p) ? ' ready' : ''}`,
      )
      .join(', ') || 'no pods'
  );
}

/**
 * The tracking server pods of one MLflow Deployment, through the Kubernetes API: what a cluster
 * operator (or a node failure) does to them.
 */
export class MlflowServerPods {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly deployment: string,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  async readDeployment(): Promise<V1Deployment> {
    return this.apps.readNamespacedDeployment({
      name: this.deployment,
      namespace: this.namespace,
    });
  }

  /** The Deployment's own selector, so only its pods are touched. */
  private async selector(): Promise<string> {
    const labels = (await this.readDeployment()).spec?.selector.matchLabels;
    if (!labels || Object.keys(labels).length === 0) {
      throw new Error(
        `Deployment ${this.namespace}/${this.deployment} has no matchLabels selector`,
      );
    }
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }

  async list(): Promise<V1Pod[]> {
    const res = await this.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: await this.selector(),
    });
    return res.items;
  }

  /** Waits until `replicas` pods are Ready, none of them one of `notUids`; returns them. */
  async waitForReady(options: {
    replicas: number;
    notUids?: string[];
    timeoutMs: number;
  }): Promise<V1Pod[]> {
    const excluded = new Set(options.notUids ?? []);
    return eventually(
      async () => {
        const pods = await this.list();
        const live = pods.filter(p => !p.metadata?.deletionTimestamp);
        const ready = live.filter(
          p => isReady(p) && !excluded.has(p.metadata!.uid!),
        );
        if (ready.length < options.replicas) {
          throw new Error(
            `Waited for ${options.replicas} ready replacement pod(s) of ${
              this.namespace
            }/${this.deployment}; have ${describePods(pods)}`,
          );
        }
        return ready;
      },
      { timeoutMs: options.timeoutMs, intervalMs: 500 },
    );
  }

  /** Deletes every tracking server pod at once (the default grace period); returns their uids. */
  async deleteAll(): Promise<string[]> {
    const pods = (await this.list()).filter(
      p => !p.metadata?.deletionTimestamp,
    );
    if (pods.length === 0) {
      throw new Error(
        `No pods of ${this.namespace}/${this.deployment} to delete`,
      );
    }
    await Promise.all(
      pods.map(p =>
        this.core.deleteNamespacedPod({
          name: p.metadata!.name!,
          namespace: this.namespace,
        }),
      ),
    );
    return pods.map(p => p.metadata!.uid!);
  }

  /** Deletes the Deployment with its ReplicaSets and pods, and waits until no pod is left. */
  async deleteDeployment(timeoutMs: number): Promise<void> {
    const selector = await this.selector();
    await this.apps.deleteNamespacedDeployment({
      name: this.deployment,
      namespace: this.namespace,
      propagationPolicy: 'Foreground',
    });
    await eventually(
      async () => {
        const deployments = await this.apps.listNamespacedDeployment({
          namespace: this.namespace,
          fieldSelector: `metadata.name=${this.deployment}`,
        });
        const pods = await this.core.listNamespacedPod({
          namespace: this.namespace,
          labelSelector: selector,
        });
        if (deployments.items.length > 0 || pods.items.length > 0) {
          throw new Error(
            `Deployment ${this.namespace}/${this.deployment} still has ${
              deployments.items.length
            } Deployment(s) and ${describePods(pods.items)}`,
          );
        }
      },
      { timeoutMs, intervalMs: 500 },
    );
  }
}

/** Deletes a namespace and everything in it; a missing namespace is fine. */
export async function deleteNamespace(
  kubeConfig: KubeConfig,
  name: string,
): Promise<void> {
  await kubeConfig
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch((error: { code?: number }) => {
      if (error.code !== 404) {
        throw error;
      }
    });
}
