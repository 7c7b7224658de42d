import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';

export interface Config {
  catalog?: {
    providers?: {
      /** The entity provider that discovers MLflow instances in the configured clusters. */
      mlflow?: {
        /**
         * How often each cluster is listed (one scheduled task per cluster); default every 30 s,
         * timeout 1 min.
         */
        schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
        /**
         * Names of the clusters (from kubernetes.clusterLocatorMethods, type config) to discover
         * in; default: all of them.
         */
        clusters?: string[];
        /**
         * Owner of adopted instances whose adoptNamespaces entry names none; default
         * `group:default/unknown`.
         */
        defaultOwner?: string;
        /**
         * Namespaces whose MLflow Deployments are shown although the deploy action did not sign
         * them (e.g. Helm installs). Their annotations are ignored: the owner comes from here.
         */
        adoptNamespaces?: Array<{
          /** Kubernetes namespace. */
          namespace: string;
          /** Cluster name; default: this namespace in every listed cluster. */
          cluster?: string;
          /** Owner entity ref of the adopted instances; default `defaultOwner`. */
          owner?: string;
          /**
           * Catalog namespace of the adopted entities, never `default` (kept for instances
           * created by the template); default `mlflow-adopted`.
           */
          entityNamespace?: string;
        }>;
      };
    };
  };
  mlflow?: {
    /**
     * @deprecated Use catalog.providers.mlflow; still read, with a warning, when that is absent.
     */
    catalog?: {
      /** @deprecated Use catalog.providers.mlflow.schedule. */
      refreshIntervalSeconds?: number;
      /** @deprecated Use catalog.providers.mlflow.clusters. */
      clusters?: string[];
      /** @deprecated Use catalog.providers.mlflow.defaultOwner with adoptNamespaces. */
      defaultOwner?: string;
    };
  };
}
