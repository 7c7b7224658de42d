import type {
  AppsV1Api,
  NetworkingV1Api,
  V1Deployment,
  V1Ingress,
} from '@kubernetes/client-node';
import {
  LABEL_APP_INSTANCE,
  LABEL_APP_NAME,
  LABEL_APP_NAME_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import { KeyedBatcher } from './KeyedBatcher';
import { KeyedConcurrencyLimiter } from './KeyedConcurrencyLimiter';

/** The Kubernetes APIs the check reads, for one cluster. */
export type KubernetesApis = {
  apps: Pick<
    AppsV1Api,
    'listNamespacedDeployment' | 'listDeploymentForAllNamespaces'
  >;
  networking: Pick<
    NetworkingV1Api,
    'listNamespacedIngress' | 'listIngressForAllNamespaces'
  >;
};

/** The objects of one MLflow instance; `ingresses` is undefined when they could not be read. */
export type MlflowWorkload = {
  deployments: V1Deployment[];
  ingresses?: V1Ingress[];
};

type Listed = MlflowWorkload | { error: unknown };

function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function groupByNamespace<T extends { metadata?: { namespace?: string } }>(
  items: T[],
): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const item of items) {
    const namespace = item.metadata?.namespace ?? '';
    const group = grouped.get(namespace);
    if (group) {
      group.push(item);
    } else {
      grouped.set(namespace, [item]);
    }
  }
  return grouped;
}

const DEPLOYMENT_SELECTOR = `${LABEL_APP_NAME}=${LABEL_APP_NAME_MLFLOW}`;
const INGRESS_SELECTOR = LABEL_APP_INSTANCE;

/** Lists the MLflow Deployments and Ingresses of some namespaces of one cluster. */
class WorkloadLister {
  constructor(
    private readonly apisFor: (cluster: string) => KubernetesApis,
    private readonly limiter: KeyedConcurrencyLimiter,
    private readonly timeoutMs: number,
  ) {}

  async list(
    cluster: string,
    namespaces: string[],
  ): Promise<Map<string, Listed>> {
    const apis = this.apisFor(cluster);
    // The client takes no deadline: a call that hangs gives its slot back after the timeout.
    const run = <T>(task: () => Promise<T>) =>
      this.limiter.run(`kubernetes:${cluster}`, () =>
        withDeadline(task(), this.timeoutMs),
      );
    const result = new Map<string, Listed>();
    if (namespaces.length > 1) {
      const [deployments, ingresses] = await Promise.allSettled([
        run(() =>
          apis.apps.listDeploymentForAllNamespaces({
            labelSelector: DEPLOYMENT_SELECTOR,
          }),
        ),
        run(() =>
          apis.networking.listIngressForAllNamespaces({
            labelSelector: INGRESS_SELECTOR,
          }),
        ),
      ]);
      if (deployments.status === 'fulfilled') {
        const deploymentsByNamespace = groupByNamespace(
          deployments.value.items,
        );
        const ingressesByNamespace =
          ingresses.status === 'fulfilled'
            ? groupByNamespace(ingresses.value.items)
            : undefined;
        for (const namespace of namespaces) {
          result.set(namespace, {
            deployments: deploymentsByNamespace.get(namespace) ?? [],
            ingresses: ingressesByNamespace
              ? ingressesByNamespace.get(namespace) ?? []
              : undefined,
          });
        }
        return result;
      }
    }
    await Promise.all(
      namespaces.map(async namespace => {
        const [deployments, ingresses] = await Promise.allSettled([
          run(() =>
            apis.apps.listNamespacedDeployment({
              namespace,
              labelSelector: DEPLOYMENT_SELECTOR,
            }),
          ),
          run(() =>
            apis.networking.listNamespacedIngress({
              namespace,
              labelSelector: INGRESS_SELECTOR,
            }),
          ),
        ]);
        result.set(
          namespace,
          deployments.status === 'rejected'
            ? { error: deployments.reason }
            : {
                deployments: deployments.value.items,
                ingresses:
                  ingresses.status === 'fulfilled'
                    ? ingresses.value.items
                    : undefined,
              },
        );
      }),
    );
    return result;
  }
}

/** One workload asked for: the instance's objects in one namespace. */
export type WorkloadKey = { namespace: string; instance: string };

/** Reads the Deployments and Ingresses of MLflow instances, per cluster. */
export type KubernetesWorkloadReader = KeyedBatcher<
  string,
  WorkloadKey,
  MlflowWorkload
>;

/**
 * Reads the MLflow Deployments and Ingresses asked for in the same turn of the event loop with as
 * few calls as possible: one namespace costs two namespaced lists; several namespaces of a cluster
 * cost two cluster-wide lists, falling back to namespaced lists when the cluster-wide ones are
 * refused (a service account limited to some namespaces).
 */
export function createKubernetesWorkloadReader(
  apisFor: (cluster: string) => KubernetesApis,
  limiter: KeyedConcurrencyLimiter,
  timeoutMs: number,
): KubernetesWorkloadReader {
  const lister = new WorkloadLister(apisFor, limiter, timeoutMs);
  return new KeyedBatcher({
    groupId: cluster => cluster,
    keyId: ({ namespace, instance }) => `${namespace}/${instance}`,
    async load(cluster, keys) {
      const byNamespace = await lister.list(cluster, [
        ...new Set(keys.map(k => k.namespace)),
      ]);
      return ({ namespace, instance }): MlflowWorkload => {
        const listed = byNamespace.get(namespace)!;
        if ('error' in listed) {
          throw listed.error;
        }
        const mine = (labels?: Record<string, string>) =>
          labels?.[LABEL_APP_INSTANCE] === instance;
        return {
          deployments: listed.deployments.filter(d => mine(d.metadata?.labels)),
          ingresses: listed.ingresses?.filter(i => mine(i.metadata?.labels)),
        };
      };
    },
  });
}
