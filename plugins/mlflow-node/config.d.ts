export interface Config {
  mlflow?: {
    /** Keys for the identity the deploy action signs on each MLflow Deployment. */
    identity?: {
      /**
       * HMAC key the deploy action signs instance identities with and the catalog verifies them
       * with: only Deployments whose signature verifies give the catalog their owner, system, links
       * and AWS identifiers. A random string of at least 32 characters, the same on every backend
       * replica; never in a namespace user's reach.
       * @visibility secret
       */
      signingKey?: string;
      /**
       * Keys still accepted (never used to sign) while the signing key is rotated.
       * @visibility secret
       */
      previousSigningKeys?: string[];
    };
  };
}
