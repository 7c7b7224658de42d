export interface Config {
  mlflow?: {
    /**
     * Guard rails of the provisioning actions. Images, hostnames and KMS keys are refused unless
     * listed here (fail closed).
     */
    provisioning?: {
      /**
       * Images the tracking server may run: patterns where `*` matches within one path segment
       * and `**` across segments, e.g. `ghcr.io/acme/mlflow-server:*`.
       */
      allowedImages?: string[];
      /** Domains the Ingress host must be (or be under), e.g. `mlflow.example.com`. */
      allowedHostnameDomains?: string[];
      /** Namespaces the actions may create or use (`*` patterns); `mlflow-*` when unset. */
      allowedNamespaces?: string[];
      /**
       * Existing namespaces that were not created for the instance and may be used as they are.
       * None when unset: an existing namespace is used only when it carries the instance's identity.
       */
      adoptableNamespaces?: string[];
      /** KMS key ARNs the server's IAM role may be granted (through S3 in the key's region only). */
      allowedKmsKeyArns?: string[];
    };
    database?: {
      /**
       * Where `mlflow:database:create` connects instead of the RDS endpoint, e.g. a tunnel or a
       * local PostgreSQL standing in for RDS. The backend-store URI written into the Kubernetes
       * Secret uses this host and port too.
       */
      connectionOverride?: {
        host: string;
        port: number;
        /**
         * TLS mode for these connections (and in the URI the server uses); `disable` when unset,
         * which RDS (TLS forced by the parameter group) refuses: set `require` for a tunnel to RDS.
         */
        sslMode?: 'disable' | 'require' | 'verify-full';
      };
    };
  };
}
