import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { eventually } from './eventually';

/** The Deployment of an instance's tracking server, scaled as an operator would. */
export class TrackingServerDeployment {
  private readonly apps: AppsV1Api;

  /**
   * The Deployment of `entityName` where the health API reports it runs; waits for a report that
   * names it, not only for the first answer.
   */
  static async of(options: {
    kubeConfig: KubeConfig;
    backendUrl: string;
    token: string;
    entityName: string;
  }): Promise<TrackingServerDeployment> {
    const { namespace, deployment } = await eventually(async () => {
      const res = await fetch(
        `${options.backendUrl}/api/mlflow/v1/health/default/component/${options.entityName}`,
        { headers: { Authorization: `Bearer ${options.token}` } },
      );
      if (!res.ok) {
        throw new Error(`Health API answered ${res.status}`);
      }
      const report = (await res.json()) as MlflowHealthReport;
      const check = report.checks.find(c => c.id === 'kubernetes');
      if (check?.id !== 'kubernetes' || !check.details) {
        throw new Error(
          `The health report of ${options.entityName} has no Kubernetes details yet`,
        );
      }
      return check.details;
    });
    return new TrackingServerDeployment(
      options.kubeConfig,
      namespace,
      deployment,
    );
  }

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly name: string,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  async replicas(): Promise<{ desired: number; ready: number }> {
    const deployment = await this.apps.readNamespacedDeployment({
      name: this.name,
      namespace: this.namespace,
    });
    return {
      desired: deployment.spec?.replicas ?? 0,
      ready: deployment.status?.readyReplicas ?? 0,
    };
  }

  /** Scales to `replicas` and waits until exactly that many pods are ready. */
  async scale(replicas: number, timeoutMs: number): Promise<void> {
    await this.apps.replaceNamespacedDeploymentScale({
      name: this.name,
      namespace: this.namespace,
      body: {
        metadata: { name: this.name, namespace: this.namespace },
        spec: { replicas },
      },
    });
    await eventually(
      async () => {
        const { ready } = await this.replicas();
        if (ready !== replicas) {
          throw new Error(
            `${this.namespace}/${this.name}: ${ready} ready replicas, waiting for ${replicas}`,
          );
        }
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }
}
