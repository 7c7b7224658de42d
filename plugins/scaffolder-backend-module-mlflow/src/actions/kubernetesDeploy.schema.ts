import {
  BACKEND_STORE_URI_KEY,
  resolveInstanceNames,
} from '@stateful-mlflow/plugin-mlflow-common';
import { z as zod } from 'zod/v3';
import {
  allowAnonymousAccessInput,
  clusterInput,
  environmentInput,
  hostnameInput,
  imageInput,
  nameInput,
  namespaceInput,
  ownerInput,
  serviceAccountNameInput,
  timeoutSecondsInput,
  tlsClusterIssuerInput,
  tlsSecretNameInput,
} from './inputProperties';

type Z = typeof zod;

/** The default names, spelled for any instance, for the field descriptions. */
const ANY_INSTANCE = resolveInstanceNames({ name: '<name>' });

/** Inputs of mlflow:kubernetes:deploy. */
export const kubernetesDeployInput = {
  name: nameInput,
  cluster: clusterInput,
  namespace: namespaceInput,
  image: imageInput,
  hostname: hostnameInput,
  tlsSecretName: tlsSecretNameInput,
  tlsClusterIssuer: tlsClusterIssuerInput,
  ingressClassName: (z: Z) =>
    z
      .string()
      .optional()
      .describe("Ingress class; the cluster's default class when empty."),
  environment: environmentInput,
  replicas: (z: Z) =>
    z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(2)
      .describe('Server replicas; at least 2 in prod.'),
  workers: (z: Z) =>
    z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(2)
      .describe('Server worker processes per replica.'),
  serviceAccountName: serviceAccountNameInput,
  roleArn: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'IAM role of the server (output roleArn of mlflow:iam:createRole), set as the IRSA annotation.',
      ),
  region: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'AWS region of the bucket and database (AWS_REGION of the server).',
      ),
  awsAccountId: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'AWS account holding the database and bucket, when not the main account; recorded for the catalog and health checks.',
      ),
  owner: ownerInput,
  system: (z: Z) =>
    z
      .string()
      .optional()
      .describe('System the instance is part of (an entity name).'),
  description: (z: Z) =>
    z.string().max(500).optional().describe('Description of the instance.'),
  rdsInstanceId: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'RDS instance identifier, recorded for the catalog and health checks; nothing is recorded when empty.',
      ),
  preUpgradeSnapshotId: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'The RDS snapshot taken before this migration (mlflow:rds:snapshot): a failed migration names it and how to restore it.',
      ),
  databaseName: (z: Z) =>
    z
      .string()
      .optional()
      .describe('PostgreSQL database name, recorded for the catalog.'),
  databaseSecretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        `Secret holding ${BACKEND_STORE_URI_KEY} (output secretName of mlflow:database:create); ${ANY_INSTANCE.databaseSecretName} when empty.`,
      ),
  artifactsDestination: (z: Z) =>
    z
      .string()
      .describe(
        'Where the server stores artifacts: s3://bucket/prefix (output artifactRoot of mlflow:s3:create).',
      ),
  backendStoreUri: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'Only with allowEphemeralStorage: a sqlite:/// URI for a throw-away server. Real backend stores come from the database Secret, never inline.',
      ),
  allowEphemeralStorage: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe(
        'Allow a sqlite backend store and a local artifact directory. Everything is lost when a pod restarts; for demonstrations only.',
      ),
  allowAnonymousAccess: allowAnonymousAccessInput,
  authSecretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        `Secret of MLflow's sign-in (admin login, basic_auth.ini; output authSecretName of mlflow:database:create); ${ANY_INSTANCE.authSecretName} when empty.`,
      ),
  healthSecretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        `Secret of the health-check user (output healthSecretName of mlflow:database:create); ${ANY_INSTANCE.healthSecretName} when empty.`,
      ),
  dbMaxConnections: (z: Z) =>
    z
      .number()
      .int()
      .min(10)
      .max(10000)
      .default(100)
      .describe(
        'max_connections of the PostgreSQL instance; the connection pools are sized so that replicas × workers × pool stays below it.',
      ),
  cpuRequest: (z: Z) =>
    z.string().default('250m').describe('CPU request per server pod.'),
  memoryRequest: (z: Z) =>
    z.string().default('512Mi').describe('Memory request per server pod.'),
  memoryLimit: (z: Z) =>
    z.string().default('1Gi').describe('Memory limit per server pod.'),
  proxyBodySize: (z: Z) =>
    z
      .string()
      .default('5g')
      .describe(
        'Largest artifact upload through the Ingress (nginx syntax, e.g. 5g).',
      ),
  proxyTimeoutSeconds: (z: Z) =>
    z
      .number()
      .int()
      .min(30)
      .max(3600)
      .default(600)
      .describe(
        'Ingress read and send timeout for long uploads and downloads, in seconds.',
      ),
  ingressControllerNamespace: (z: Z) =>
    z
      .string()
      .default('ingress-nginx')
      .describe(
        'Namespace of the ingress controller, allowed in by the NetworkPolicy.',
      ),
  allowedClientNamespaces: (z: Z) =>
    z
      .array(z.string())
      .default([])
      .describe(
        'Other namespaces whose pods may call the server directly through its Service.',
      ),
  extraEnv: (z: Z) =>
    z
      .record(z.string())
      .default({})
      .describe(
        'Extra non-secret environment variables of the server, e.g. MLFLOW_S3_ENDPOINT_URL for an S3-compatible store.',
      ),
  runAsUser: (z: Z) =>
    z
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe('Non-root user id the server runs as.'),
  apply: (z: Z) =>
    z
      .boolean()
      .default(true)
      .describe(
        'Apply to the cluster; false only renders (with manifestsPath for GitOps).',
      ),
  manifestsPath: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'Workspace-relative file to write the manifests to as YAML, e.g. manifests/mlflow.yaml, for publishing to a GitOps repository.',
      ),
  waitForRollout: (z: Z) =>
    z
      .boolean()
      .default(true)
      .describe('Wait until every replica is updated and ready.'),
  timeoutSeconds: (z: Z) => timeoutSecondsInput(z, 900),
};

/** Outputs of mlflow:kubernetes:deploy. */
export const kubernetesDeployOutput = {
  namespace: (z: Z) => z.string().describe('Namespace of the instance.'),
  deployment: (z: Z) => z.string().describe('Name of the server Deployment.'),
  serviceUrl: (z: Z) =>
    z.string().describe('In-cluster URL of the server, through its Service.'),
  trackingUrl: (z: Z) =>
    z
      .string()
      .describe('Public URL of the server (MLFLOW_TRACKING_URI for users).'),
  manifestsPath: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'Workspace-relative path of the written manifests, when asked for.',
      ),
  authMode: (z: Z) =>
    z
      .enum(['basic-auth', 'anonymous'])
      .describe(
        'basic-auth: users sign in (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD); anonymous: no sign-in.',
      ),
  authSecretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'With basic-auth: the Secret holding the admin login (its name only).',
      ),
};
