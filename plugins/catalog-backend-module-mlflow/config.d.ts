export interface Config {
  mlflow?: {
    /** The catalog module that discovers MLflow instances in the configured clusters. */
    catalog?: {
      /**
       * Seconds between two listings of the clusters: a new instance reaches the catalog within one
       * interval. Whole number from 1 to 3600; default 30.
       */
      refreshIntervalSeconds?: number;
      /**
       * Names of the clusters (from kubernetes.clusterLocatorMethods, type config) to discover in;
       * default: all of them.
       */
      clusters?: string[];
      /**
       * Owner entity ref for instances whose Deployment has no valid `mlflow.org/owner` annotation
       * (typically adopted ones); default `group:default/unknown`.
       */
      defaultOwner?: string;
    };
  };
}
