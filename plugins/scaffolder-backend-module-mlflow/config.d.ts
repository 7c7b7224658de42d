export interface Config {
  mlflow?: {
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
