import {
  BACKEND_STORE_URI_KEY,
  nameRules,
} from '@stateful-mlflow/plugin-mlflow-common';
import { z as zod } from 'zod/v3';
import { MLFLOW_PERMISSIONS } from '../kubernetes/authSecrets';
import {
  accountIdInput,
  clusterInput,
  namespaceInput,
  rdsInstanceIdInput,
  environmentInput,
  nameInput,
  ownerInput,
  regionInput,
  tagsInput,
  timeoutSecondsInput,
} from './inputProperties';

type Z = typeof zod;

/** Inputs of mlflow:database:create. */
export const databaseCreateInput = {
  name: nameInput,
  region: regionInput,
  accountId: accountIdInput,
  instanceId: rdsInstanceIdInput,
  masterSecretArn: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'ARN of the RDS managed master secret (output masterSecretArn of mlflow:rds:create); read from the instance when empty.',
      ),
  databaseName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        `Database to create; derived from the name when empty. ${nameRules.postgresDatabaseName.accepted}.`,
      ),
  username: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'Login role of the tracking server, owner of the database; derived from the name when empty.',
      ),
  cluster: clusterInput,
  namespace: namespaceInput,
  secretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        `Kubernetes Secret for the credentials; <name>-db when empty. Keys: ${BACKEND_STORE_URI_KEY}, PGUSER, PGPASSWORD, PGDATABASE, PGHOST, PGPORT.`,
      ),
  storeInSecretsManager: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe('Also store the credentials in AWS Secrets Manager.'),
  secretsManagerName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'Name of that Secrets Manager secret; mlflow/<name>/database when empty.',
      ),
  system: (z: Z) =>
    z
      .string()
      .optional()
      .describe('System of the instance, for the part-of label.'),
  environment: environmentInput,
  owner: ownerInput,
  tags: tagsInput,
  defaultPermission: (z: Z) =>
    z
      .enum(MLFLOW_PERMISSIONS)
      .default('READ')
      .describe(
        "What every signed-in user may do on experiments and models nobody granted them: READ (default), EDIT, MANAGE or NO_PERMISSIONS. Written into MLflow's auth config.",
      ),
  authDatabaseName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        "Database of MLflow's sign-in (users, permissions), owned by the same role; <database>_auth when empty.",
      ),
  authSecretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'Secret of the admin login, the Flask secret key and basic_auth.ini; <name>-mlflow-auth when empty. Generated once, kept by reruns.',
      ),
  healthSecretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        "Secret of the login of Backstage's health-check user; <name>-mlflow-health when empty.",
      ),
  timeoutSeconds: (z: Z) => timeoutSecondsInput(z, 1800),
};

/** Outputs of mlflow:database:create. */
export const databaseCreateOutput = {
  authDatabaseName: (z: Z) =>
    z.string().describe("Database of MLflow's sign-in."),
  authSecretName: (z: Z) =>
    z
      .string()
      .describe(
        'Secret holding the admin login (its name; the value stays in the cluster).',
      ),
  healthSecretName: (z: Z) =>
    z.string().describe("Secret holding the health-check user's login."),
  databaseName: (z: Z) => z.string().describe('Name of the database.'),
  username: (z: Z) => z.string().describe('Login role of the tracking server.'),
  secretName: (z: Z) =>
    z
      .string()
      .describe(
        'Kubernetes Secret holding the credentials (databaseSecretName of mlflow:kubernetes:deploy).',
      ),
  secretArn: (z: Z) =>
    z
      .string()
      .optional()
      .describe('ARN of the Secrets Manager copy, when asked for.'),
  host: (z: Z) => z.string().describe('Host the server connects to.'),
  port: (z: Z) => z.number().describe('Port the server connects to.'),
};
