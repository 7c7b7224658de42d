import { z as zod } from 'zod/v3';

type Z = typeof zod;

/** Environments an instance can be deployed to; prod switches on the stricter defaults. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const nameInput = (z: Z) =>
  z
    .string()
    .describe(
      'Name of the MLflow instance (the catalog Component). 2 to 40 lowercase letters, digits and single hyphens, starting with a letter. Tags and default names derive from it.',
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

/** Default Kubernetes namespace of an instance, shared by the database and deploy actions. */
export const defaultNamespace = (name: string) => `mlflow-${name}`;
/** Default name of the Kubernetes Secret holding the database credentials. */
export const defaultDatabaseSecretName = (name: string) => `${name}-db`;
/** Default ServiceAccount of the tracking server, shared by the IAM and deploy actions. */
export const DEFAULT_SERVICE_ACCOUNT = 'mlflow';
/** Default key prefix of the artifacts in the bucket, shared by the S3 and IAM actions. */
export const DEFAULT_ARTIFACT_PREFIX = 'artifacts';
