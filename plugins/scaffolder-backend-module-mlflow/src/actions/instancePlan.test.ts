import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { createInstancePlanAction } from './instancePlan';

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
  { name: 'prod-eu', url: 'https://prod-eu.example.com', skipTLSVerify: false },
]);

const input = {
  name: 'demo',
  region: 'eu-west-1',
  cluster: 'local',
  replicas: 1,
  image: 'ghcr.io/acme/mlflow-server:3.1.0',
  hostname: 'demo.mlflow.localhost',
  trustType: 'podIdentity',
};

async function run(overrides: Record<string, unknown>) {
  const action = createInstancePlanAction({ clusters });
  const recorded = createCheckpointingContext(action, {
    input: { ...input, ...overrides },
  });
  await action.handler(recorded.ctx);
  return recorded;
}

describe('mlflow:instance:plan', () => {
  it('resolves the default names and logs the plan without creating anything', async () => {
    const { outputs, logs, requested } = await run({});
    expect(outputs).toEqual({
      rdsInstanceId: 'mlflow-demo',
      bucket: 'mlflow-demo-artifacts',
      artifactRoot: 's3://mlflow-demo-artifacts/artifacts',
      namespace: 'mlflow-demo',
      roleName: 'mlflow-demo',
      databaseName: 'mlflow_demo',
      databaseUsername: 'mlflow_demo',
      databaseSecretName: 'demo-db',
      trackingUrl: 'http://demo.mlflow.localhost',
      entityRef: 'component:default/demo',
    });
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Plan for MLflow instance demo \(dev\): RDS PostgreSQL instance mlflow-demo in eu-west-1 .* served at http:\/\/demo\.mlflow\.localhost/,
    );
    expect(requested).toEqual([]);
  });

  it('keeps explicit names and uses https with a TLS Secret', async () => {
    const { outputs } = await run({
      databaseName: 'forecasting',
      databaseUsername: 'forecasting_app',
      rdsInstanceId: 'forecasting-db',
      bucket: 'acme-forecasting',
      namespace: 'forecasting',
      roleName: 'forecasting-mlflow',
      tlsSecretName: 'tls',
    });
    expect(outputs).toMatchObject({
      databaseName: 'forecasting',
      databaseUsername: 'forecasting_app',
      rdsInstanceId: 'forecasting-db',
      bucket: 'acme-forecasting',
      namespace: 'forecasting',
      roleName: 'forecasting-mlflow',
      trackingUrl: 'https://demo.mlflow.localhost',
    });
  });

  it.each([
    [
      'name',
      { name: 'Demo_1' },
      /Invalid name \(instance name\): received "Demo_1"/,
    ],
    ['name', { name: 'a'.repeat(41) }, /Invalid name .*the maximum is 40/],
    [
      'bucket',
      { bucket: 'xn--bucket' },
      /Invalid bucket .*prefix xn-- is reserved/,
    ],
    [
      'databaseName',
      { databaseName: "mlflow'; DROP DATABASE postgres; --" },
      /Invalid databaseName \(PostgreSQL database name\)/,
    ],
    [
      'databaseUsername',
      { databaseUsername: 'postgres' },
      /Invalid databaseUsername .*"postgres" is reserved/,
    ],
    [
      'hostname',
      { hostname: 'demo.example.com\nkind: Secret' },
      /Invalid hostname \(hostname\): received "demo\.example\.com\\nkind: Secret"/,
    ],
    [
      'namespace',
      { namespace: 'kube-system' },
      /Invalid namespace .*kube- is reserved/,
    ],
    [
      'cluster',
      { cluster: 'nope' },
      /Invalid cluster: received "nope".*Accepted: local, prod-eu/,
    ],
    [
      'allowedSecurityGroupIds',
      { allowedSecurityGroupIds: ['sg-12345678', 'default'] },
      /Invalid allowedSecurityGroupIds\[1\] \(security group id\)/,
    ],
    [
      'kmsKeyId',
      { kmsKeyId: 'my key' },
      /Invalid kmsKeyId \(KMS key\): received "my key"/,
    ],
    [
      'hostname',
      { hostname: '169.254.169.254' },
      /Invalid hostname \(hostname\): received "169\.254\.169\.254", but it is an IP address/,
    ],
    [
      'hostname',
      { hostname: '[::1]' },
      /Invalid hostname \(hostname\): received "\[::1\]", but it is an IP address/,
    ],
    [
      'oidcProviderArn',
      {
        trustType: 'irsa',
        oidcProviderArn:
          'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC/',
      },
      /Invalid oidcProviderArn \(IAM OIDC provider ARN\): .* must not end with a slash/,
    ],
    [
      'oidcProviderArn',
      {
        trustType: 'irsa',
        oidcProviderArn:
          'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com//id/ABC',
      },
      /Invalid oidcProviderArn \(IAM OIDC provider ARN\): .* empty path segment/,
    ],
    [
      'replicas',
      { environment: 'prod', replicas: 1 },
      /Invalid replicas: received 1, but prod needs at least 2/,
    ],
    [
      'oidcProviderArn',
      { trustType: 'irsa' },
      /Invalid oidcProviderArn: received nothing/,
    ],
  ])(
    'rejects a bad %s naming the field and the value',
    async (_f, overrides, message) => {
      await expect(run(overrides)).rejects.toThrow(message);
    },
  );
});
