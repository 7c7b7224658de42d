import {
  DEFAULT_ARTIFACT_PREFIX,
  DEFAULT_SERVICE_ACCOUNT,
  nameRules,
} from '@stateful-mlflow/plugin-mlflow-common';
import { z as zod } from 'zod/v3';

/**
 * Input fields shared by the actions, one definition each. The handlers check the values against
 * the rules of mlflow-common, which name the field and say what is accepted.
 */
type Z = typeof zod;

/** Environments an instance can be deployed to; prod switches on the stricter defaults. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const nameInput = (z: Z) =>
  z
    .string()
    .describe(
      `Name of the MLflow instance (the catalog Component): ${nameRules.instanceName.accepted}. Tags and default names derive from it.`,
    );

export const regionInput = (z: Z) =>
  z.string().describe('AWS region, e.g. eu-west-1.');

export const accountIdInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe(
      'AWS account id from the aws.accounts configuration to act in; the default account or credential chain when empty.',
    );

export const environmentInput = (z: Z) =>
  z
    .enum(ENVIRONMENTS)
    .default('dev')
    .describe(
      'Environment of the instance. prod turns on Multi-AZ, deletion protection, longer backups and at least two replicas.',
    );

export const ownerInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe('Owner of the instance (an entity ref), written into tags.');

export const tagsInput = (z: Z) =>
  z
    .record(z.string())
    .optional()
    .describe('Extra AWS tags; the tags marking ownership always win.');

export const timeoutSecondsInput = (z: Z, defaultSeconds: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(7200)
    .default(defaultSeconds)
    .describe('Longest time to wait, in seconds, before the step fails.');

export const bucketInput = (z: Z) =>
  z
    .string()
    .describe(
      `Artifact bucket: ${nameRules.s3BucketName.accepted}; globally unique across AWS.`,
    );

export const artifactPrefixInput = (z: Z) =>
  z
    .string()
    .default(DEFAULT_ARTIFACT_PREFIX)
    .describe(
      'Key prefix under which MLflow stores artifacts; the artifact root is s3://<bucket>/<prefix>, and the IAM role may touch nothing else.',
    );

export const namespaceInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe(
      'Kubernetes namespace of the instance; mlflow-<name> when empty.',
    );

export const roleNameInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe('IAM role of the tracking server; mlflow-<name> when empty.');

export const serviceAccountNameInput = (z: Z) =>
  z
    .string()
    .default(DEFAULT_SERVICE_ACCOUNT)
    .describe('ServiceAccount of the tracking server; the IAM role trusts it.');

export const trustTypeInput = (z: Z) =>
  z
    .enum(['irsa', 'podIdentity'])
    .default('irsa')
    .describe(
      'irsa: trust the cluster OIDC provider for this ServiceAccount (needs oidcProviderArn). podIdentity: trust EKS Pod Identity (the association is created on the cluster side).',
    );

export const oidcProviderArnInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe(
      `The cluster's IAM OIDC provider, needed for irsa: ${nameRules.oidcProviderArn.accepted}.`,
    );

export const rdsInstanceIdInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe(
      `RDS DB instance identifier; mlflow-<name> when empty. ${nameRules.rdsInstanceIdentifier.accepted}.`,
    );

export const allowedSecurityGroupIdsInput = (z: Z) =>
  z
    .array(z.string())
    .default([])
    .describe(
      'Security groups (e.g. of the cluster nodes) allowed to reach PostgreSQL.',
    );

export const clusterInput = (z: Z) =>
  z
    .string()
    .describe(
      'Cluster name as configured under kubernetes.clusterLocatorMethods.',
    );

export const imageInput = (z: Z) =>
  z
    .string()
    .describe(
      'MLflow server image; it must contain psycopg2 and boto3, e.g. ghcr.io/acme/mlflow-server:3.1.0.',
    );

export const hostnameInput = (z: Z) =>
  z
    .string()
    .describe(
      `Public host name of the tracking server (the Ingress host): ${nameRules.hostname.accepted}.`,
    );

export const tlsSecretNameInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe(
      'TLS Secret for the hostname; the tracking URL is https when set.',
    );

export const tlsClusterIssuerInput = (z: Z) =>
  z
    .string()
    .optional()
    .describe(
      'cert-manager ClusterIssuer that issues the certificate of the hostname (into tlsSecretName, or <name>-tls); the tracking URL is https when set.',
    );

export const allowAnonymousAccessInput = (z: Z) =>
  z
    .boolean()
    .default(false)
    .describe(
      'Turn sign-in off: anyone who reaches the tracking URL may read and change everything. Refused in prod.',
    );
