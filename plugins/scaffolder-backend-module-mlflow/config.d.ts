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
      /**
       * Seconds between looks at an RDS instance or snapshot while a step waits for it (creation,
       * the database step, snapshots, deletion). Each action's default when unset (15 s while an
       * instance is created: RDS takes minutes). The local stack's stand-in for RDS is ready in
       * seconds and sets 1.
       */
      rdsPollIntervalSeconds?: number;
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
      /**
       * PEM file of the CA certificates the RDS server certificate is verified against
       * (`verify-full`, the default). For RDS: AWS's trust store of every region,
       * `global-bundle.pem` from the RDS documentation page "Using SSL/TLS to encrypt a connection
       * to a DB instance" (or the bundle of your region). Node's own trust store when unset, which
       * does not hold the RDS CAs.
       */
      caBundlePath?: string;
    };
    health?: {
      /**
       * Backstage's identity in the instances' clusters (the subject of the credentials under
       * kubernetes.clusterLocatorMethods). The deploy action gives it `get` on each instance's
       * health Secret, that one Secret only (a Role and RoleBinding in the instance's namespace);
       * nothing when unset, so the identity needs that right by other means.
       */
      secretReader?: {
        kind: 'ServiceAccount' | 'User' | 'Group';
        name: string;
        /** Namespace of the ServiceAccount; required for that kind. */
        namespace?: string;
      };
    };
  };
}
