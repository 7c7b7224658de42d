import { MlflowManifestOptions } from '../kubernetes/renderMlflowManifests';

/** The options of a production instance demo with sign-in, as the deploy action resolves them. */
export const baseOptions: MlflowManifestOptions = {
  name: 'demo',
  namespace: 'mlflow-demo',
  cluster: 'prod-eu',
  image: 'ghcr.io/acme/mlflow:3.1.0',
  hostname: 'demo.mlflow.example.com',
  environment: 'prod',
  replicas: 2,
  workers: 2,
  serviceAccountName: 'mlflow',
  roleArn: 'arn:aws:iam::123456789012:role/mlflow-demo',
  region: 'eu-west-1',
  owner: 'group:default/ml',
  system: 'forecasting',
  description: 'Demo',
  rdsInstanceId: 'mlflow-demo',
  databaseName: 'mlflow_demo',
  backendStore: { kind: 'secret', secretName: 'demo-db' },
  artifactsDestination: 's3://acme-mlflow-demo/artifacts',
  dbMaxConnections: 100,
  cpuRequest: '250m',
  memoryRequest: '512Mi',
  memoryLimit: '1Gi',
  proxyBodySize: '5g',
  proxyTimeoutSeconds: 600,
  ingressControllerNamespace: 'ingress-nginx',
  allowedClientNamespaces: ['training'],
  extraEnv: {},
  runAsUser: 1000,
  migrationTimeoutSeconds: 600,
  auth: {
    mode: 'basic-auth',
    secretName: 'demo-mlflow-auth',
    healthSecretName: 'demo-mlflow-health',
    configHash: 'abc123',
  },
};
/** The same instance in dev, without sign-in. */
export const anonymousOptions: MlflowManifestOptions = {
  ...baseOptions,
  environment: 'dev',
  auth: { mode: 'anonymous' },
};
/** A container variable read from the key `name` of the database Secret demo-db. */
export const fromDbSecret = (name: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: 'demo-db', key: name } },
});
