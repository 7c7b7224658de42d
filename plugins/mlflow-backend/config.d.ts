export interface Config {
  mlflow?: {
    /** Health API of the MLflow plugin (`/api/mlflow/v1/health`). */
    health?: {
      /**
       * Glob patterns (minimatch, `*` also matches dots) for the hosts of `mlflow.org/tracking-url`
       * the backend may call. Nothing else is fetched. Loopback addresses are reachable only through
       * patterns that name a loopback host (`localhost`, `*.localhost`, `127.0.0.1`, `::1`);
       * link-local and cloud metadata addresses and the backend's own address never are.
       */
      allowedTrackingHosts?: string[];
      /** Upper bound of each check, in milliseconds. Defaults to 5000. */
      checkTimeoutMs?: number;
      /** How long a report (the liveness results) is served from the cache, in seconds. Defaults to 30. */
      cacheTtlSeconds?: number;
      /** How long S3 bucket settings (versioning, encryption, policies) are cached, in seconds. Defaults to 600. */
      storeSettingsTtlSeconds?: number;
      /** Minimum time between two `?refresh=true` runs for one entity, in seconds. Defaults to 10. */
      refreshMinIntervalSeconds?: number;
      /** Concurrent requests per tracking host and per Kubernetes cluster. Defaults to 4. */
      maxConcurrencyPerHost?: number;
    };
  };
}
