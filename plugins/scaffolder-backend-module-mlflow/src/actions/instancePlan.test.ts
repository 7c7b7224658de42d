import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { createInstancePlanAction } from '../actionFactories';
import {
  fakeAuthorization,
  instanceLabels,
  testGuardRails,
  testTenancy,
} from '../__testUtils__/tenancy';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';

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
  const action = createInstancePlanAction({
    clusters,
    kubernetes: () => new FakeKubernetesApi(),
    ...testTenancy(),
  });
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
      owner: 'user:default/mock',
    });
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Plan for MLflow instance demo \(dev\), owner user:default\/mock: RDS PostgreSQL instance mlflow-demo in eu-west-1 .* served at http:\/\/demo\.mlflow\.localhost/,
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

  it('uses https with a cert-manager issuer and names the sign-in Secret in the plan', async () => {
    const { outputs, logs } = await run({ tlsClusterIssuer: 'letsencrypt' });
    expect(outputs.trackingUrl).toBe('https://demo.mlflow.localhost');
    expect(logs.map(l => l.message).join('\n')).toContain(
      'sign-in required (MLflow basic-auth, admin login in Secret mlflow-demo/demo-mlflow-auth)',
    );
  });

  it('plans an anonymous instance outside prod, saying so', async () => {
    const { logs } = await run({ allowAnonymousAccess: true });
    expect(logs.map(l => l.message).join('\n')).toContain(
      'NO SIGN-IN (allowAnonymousAccess)',
    );
  });

  it('refuses anonymous access in prod before looking at anything else', async () => {
    const kubernetes = jest.fn(() => new FakeKubernetesApi());
    const action = createInstancePlanAction({
      clusters,
      kubernetes,
      ...testTenancy(),
    });
    const { ctx, outputs } = createCheckpointingContext(action, {
      // The bad name would be refused too: the anonymous prod instance is refused first.
      input: {
        ...input,
        name: 'Bad_Name',
        environment: 'prod',
        replicas: 2,
        allowAnonymousAccess: true,
      },
    });
    await expect(action.handler(ctx)).rejects.toThrow(
      'Invalid allowAnonymousAccess: received true. Accepted: false in prod: a production tracking server always requires sign-in (MLflow basic-auth).',
    );
    expect(kubernetes).not.toHaveBeenCalled();
    expect(outputs).toEqual({});
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
    [
      'tlsClusterIssuer',
      { tlsClusterIssuer: 'Lets Encrypt' },
      /Invalid tlsClusterIssuer \(Kubernetes object name\): received "Lets Encrypt"/,
    ],
  ])(
    'rejects a bad %s naming the field and the value',
    async (_f, overrides, message) => {
      await expect(run(overrides)).rejects.toThrow(message);
    },
  );

  describe('tenancy', () => {
    const GUESTS_DEMO = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'demo', namespace: 'default' },
      spec: { type: 'service', owner: 'group:default/guests' },
    };

    function plan(options: {
      authorization: ReturnType<typeof fakeAuthorization>;
      cluster?: FakeKubernetesApi;
      guardRails?: ReturnType<typeof testGuardRails>;
    }) {
      return createInstancePlanAction({
        clusters,
        kubernetes: () => options.cluster ?? new FakeKubernetesApi(),
        authorization: options.authorization,
        guardRails: options.guardRails ?? testGuardRails(),
      });
    }

    it.each([false, true])(
      "refuses a run on another owner's instance, naming it and its owner (dry-run %p)",
      async isDryRun => {
        const authorization = fakeAuthorization({ entities: [GUESTS_DEMO] });
        const action = plan({ authorization });
        const { ctx, outputs } = createCheckpointingContext(action, {
          input: { ...input, owner: 'group:default/intruders' },
          isDryRun,
        });
        await expect(action.handler(ctx)).rejects.toThrow(
          'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/guests (nor transfer it to group:default/intruders): the permission policy denies mlflow.instance.update on it',
        );
        expect(outputs).toEqual({});
      },
    );

    it("lets the entity's owner rerun and transfer the instance", async () => {
      const authorization = fakeAuthorization({
        entities: [GUESTS_DEMO],
        ownership: {
          'user:default/mock': ['user:default/mock', 'group:default/guests'],
        },
      });
      const action = plan({ authorization });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: { ...input, owner: 'team-b' },
      });
      await action.handler(ctx);
      expect(outputs.owner).toBe('group:default/team-b');
      const rerun = createCheckpointingContext(action, { input });
      await action.handler(rerun.ctx);
      expect(rerun.outputs.owner).toBe('group:default/guests');
    });

    it('before the entity exists, decides by the owner recorded on the namespace and Deployment', async () => {
      const cluster = new FakeKubernetesApi();
      const recorded = {
        labels: instanceLabels('demo'),
        annotations: { 'mlflow.org/owner': 'group:default/guests' },
      };
      cluster.objects.set('Namespace//mlflow-demo', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'mlflow-demo', ...recorded },
      });
      cluster.objects.set('Deployment/mlflow-demo/demo', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'demo', namespace: 'mlflow-demo', ...recorded },
      });
      const refused = plan({ authorization: fakeAuthorization(), cluster });
      await expect(
        refused.handler(createCheckpointingContext(refused, { input }).ctx),
      ).rejects.toThrow(
        'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/guests: user:default/mock is not a member of group:default/guests',
      );
      const member = plan({
        authorization: fakeAuthorization({
          ownership: { 'user:default/mock': ['group:default/guests'] },
        }),
        cluster,
      });
      const { ctx, outputs } = createCheckpointingContext(member, { input });
      await member.handler(ctx);
      expect(outputs.owner).toBe('group:default/guests');
    });

    it("refuses a namespace or Deployment that is not this instance's, naming it", async () => {
      const cluster = new FakeKubernetesApi();
      cluster.objects.set('Namespace//mlflow-demo', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'mlflow-demo', labels: { team: 'b' } },
      });
      const action = plan({ authorization: fakeAuthorization(), cluster });
      await expect(
        action.handler(createCheckpointingContext(action, { input }).ctx),
      ).rejects.toThrow(
        /Invalid namespace: received "mlflow-demo", but that namespace exists and was not created for this instance/,
      );
      cluster.objects.set('Namespace//mlflow-demo', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'mlflow-demo', labels: instanceLabels('demo') },
      });
      cluster.objects.set('Deployment/mlflow-demo/demo', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: 'demo',
          namespace: 'mlflow-demo',
          labels: instanceLabels('other'),
        },
      });
      await expect(
        action.handler(createCheckpointingContext(action, { input }).ctx),
      ).rejects.toThrow(
        /Deployment mlflow-demo\/demo already exists and was not created for MLflow instance "demo"/,
      );
    });

    it.each([
      [
        'image',
        { image: 'docker.io/evil/mlflow:1' },
        /Invalid image: received "docker.io\/evil\/mlflow:1", but the operator allows only images matching ghcr.io\/acme\/\*\*/,
      ],
      [
        'hostname',
        { hostname: 'demo.evil.com' },
        /Invalid hostname: received "demo.evil.com", but the operator allows only hosts in the domains localhost/,
      ],
      [
        'kmsKeyId',
        { kmsKeyId: 'arn:aws:kms:eu-west-1:210987654321:key/victim' },
        /Invalid kmsKeyId: received "arn:aws:kms:eu-west-1:210987654321:key\/victim", but the operator allows the server's role only the KMS keys nothing/,
      ],
    ])(
      "refuses a %s outside the operator's guard rails before reading anything",
      async (_field, overrides, message) => {
        const cluster = new FakeKubernetesApi();
        const read = jest.spyOn(cluster, 'read');
        const authorization = fakeAuthorization();
        const action = plan({
          authorization,
          cluster,
          guardRails: testGuardRails({
            allowedImages: ['ghcr.io/acme/**'],
            allowedHostnameDomains: ['localhost'],
            allowedKmsKeyArns: [],
          }),
        });
        await expect(
          action.handler(
            createCheckpointingContext(action, {
              input: { ...input, ...overrides },
            }).ctx,
          ),
        ).rejects.toThrow(message);
        expect(read).not.toHaveBeenCalled();
        expect(authorization.authorizeCalls).toEqual([]);
      },
    );
  });
});
