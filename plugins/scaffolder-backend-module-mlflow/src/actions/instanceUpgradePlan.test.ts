import {
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockCredentials } from '@backstage/backend-test-utils';
import { mockClient } from 'aws-sdk-client-mock';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { fakeAws } from '../__testUtils__/aws';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { fakeModifiableRds } from '../__testUtils__/fakeRdsModify';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  fakeAuthorization,
  MOCK_USER,
  testGuardRails,
  testTenancy,
} from '../__testUtils__/tenancy';
import {
  manifestsInApplyOrder,
  MlflowManifestOptions,
  renderMlflowManifests,
} from '../kubernetes/renderMlflowManifests';
import { createInstanceUpgradePlanAction } from './instanceUpgradePlan';

const rds = mockClient(RDSClient);

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
]);

/** What the deploy action rendered for the instance when it was created. */
const deployed: MlflowManifestOptions = {
  name: 'demo',
  namespace: 'mlflow-demo',
  cluster: 'local',
  image: 'ghcr.io/acme/mlflow:v3.16.1',
  hostname: 'demo.mlflow.example.com',
  tlsSecretName: 'demo-tls',
  ingressClassName: 'nginx',
  environment: 'staging',
  replicas: 2,
  workers: 3,
  serviceAccountName: 'mlflow',
  roleArn: 'arn:aws:iam::123456789012:role/mlflow-demo',
  region: 'eu-west-1',
  owner: MOCK_USER,
  system: 'forecasting',
  description: 'Demo',
  rdsInstanceId: 'mlflow-demo',
  databaseName: 'mlflow_demo',
  backendStore: { kind: 'secret', secretName: 'demo-db' },
  artifactsDestination: 's3://mlflow-demo-artifacts/artifacts',
  dbMaxConnections: 100,
  cpuRequest: '300m',
  memoryRequest: '600Mi',
  memoryLimit: '1200Mi',
  proxyBodySize: '5g',
  proxyTimeoutSeconds: 600,
  ingressControllerNamespace: 'ingress-nginx',
  allowedClientNamespaces: [],
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

async function setup(
  options: {
    authorization?: ReturnType<typeof fakeAuthorization>;
    deploy?: boolean;
    allowedImages?: string[];
  } = {},
) {
  const api = new FakeKubernetesApi();
  if (options.deploy !== false) {
    for (const object of manifestsInApplyOrder(
      renderMlflowManifests(deployed),
    )) {
      await api.apply(object, { dryRun: false });
    }
  }
  const applied = api.applied.length;
  const action = createInstanceUpgradePlanAction({
    clusters,
    kubernetes: () => api,
    authorization: options.authorization ?? testTenancy().authorization,
    guardRails: testGuardRails(
      options.allowedImages ? { allowedImages: options.allowedImages } : {},
    ),
    aws: fakeAws,
  });
  return { action, api, changed: () => api.applied.length !== applied };
}

const input = { name: 'demo', cluster: 'local' };

describe('mlflow:instance:planUpgrade', () => {
  it('reads what runs today back into the inputs of the deploy step, so nothing else changes', async () => {
    const { action, changed } = await setup();
    const run = createCheckpointingContext(action, {
      input: { ...input, image: 'ghcr.io/acme/mlflow:v3.17.2' },
    });
    await action.handler(run.ctx);
    expect(run.outputs).toEqual({
      namespace: 'mlflow-demo',
      image: 'ghcr.io/acme/mlflow:v3.17.2',
      currentImage: 'ghcr.io/acme/mlflow:v3.16.1',
      imageChanged: true,
      currentVersion: '3.16.1',
      targetVersion: '3.17.2',
      replicas: 2,
      changes: [expect.stringContaining('MLflow 3.16.1 → 3.17.2')],
      rdsChanged: false,
      hostname: 'demo.mlflow.example.com',
      trackingUrl: 'https://demo.mlflow.example.com',
      tlsSecretName: 'demo-tls',
      environment: 'staging',
      owner: MOCK_USER,
      system: 'forecasting',
      description: 'Demo',
      region: 'eu-west-1',
      rdsInstanceId: 'mlflow-demo',
      databaseName: 'mlflow_demo',
      databaseSecretName: 'demo-db',
      authSecretName: 'demo-mlflow-auth',
      healthSecretName: 'demo-mlflow-health',
      allowAnonymousAccess: false,
      roleArn: 'arn:aws:iam::123456789012:role/mlflow-demo',
      artifactsDestination: 's3://mlflow-demo-artifacts/artifacts',
      ingressClassName: 'nginx',
      workers: 3,
      cpuRequest: '300m',
      memoryRequest: '600Mi',
      memoryLimit: '1200Mi',
    });
    expect(changed()).toBe(false);
  });

  it('logs every change before anything changes: snapshot, migration, rollout for an image, replicas', async () => {
    const { action } = await setup();
    const run = createCheckpointingContext(action, {
      input: { ...input, image: 'ghcr.io/acme/mlflow:v3.17.2', replicas: 4 },
    });
    await action.handler(run.ctx);
    const plan = run.logs.map(l => l.message).join('\n');
    expect(plan).toContain(
      '- image ghcr.io/acme/mlflow:v3.16.1 → ghcr.io/acme/mlflow:v3.17.2 (MLflow 3.16.1 → 3.17.2): a manual RDS snapshot of mlflow-demo first, then the schema migration Job',
    );
    expect(plan).toContain('- replicas 2 → 4');
  });

  it('says nothing changes when nothing does, and keeps the image', async () => {
    const { action } = await setup();
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    expect(run.outputs).toMatchObject({
      image: 'ghcr.io/acme/mlflow:v3.16.1',
      imageChanged: false,
      changes: [],
    });
    expect(run.logs.map(l => l.message).join('\n')).toContain(
      'Nothing changes for MLflow instance demo',
    );
  });

  it('refuses an image the guard rails do not allow, naming the field, before reading the cluster', async () => {
    const { action, api } = await setup({
      allowedImages: ['ghcr.io/acme/mlflow:*'],
    });
    const read = jest.spyOn(api, 'read');
    const run = createCheckpointingContext(action, {
      input: { ...input, image: 'docker.io/someone/mlflow:latest' },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /image.*docker\.io\/someone\/mlflow:latest/,
    );
    expect(read).not.toHaveBeenCalled();
  });

  it('refuses an instance that is not running, naming it', async () => {
    const { action } = await setup({ deploy: false });
    const run = createCheckpointingContext(action, { input });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      'Invalid name: received "demo", but cluster local has no MLflow Deployment mlflow-demo/demo to upgrade',
    );
  });

  it('refuses a non-owner, naming the owner', async () => {
    const { action } = await setup({ authorization: fakeAuthorization() });
    const run = createCheckpointingContext(action, {
      input: { ...input, image: 'ghcr.io/acme/mlflow:v3.17.2' },
    });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /user:default\/mallory may not .*owned by user:default\/mock/,
    );
  });

  it('shows each RDS change and when RDS applies it, reading nothing from RDS when none is asked', async () => {
    rds.reset();
    fakeModifiableRds(rds, { environment: 'staging' });
    const { action } = await setup();
    const run = createCheckpointingContext(action, {
      input: {
        ...input,
        instanceClass: 'db.t4g.small',
        allocatedStorageGiB: 30,
        backupRetentionDays: 14,
        deletionProtection: true,
      },
    });
    await action.handler(run.ctx);
    expect(run.outputs.changes).toEqual([
      'instance class db.t4g.micro → db.t4g.small (in the maintenance window)',
      'allocated storage (GiB) 20 → 30 (in the maintenance window)',
      'backup retention (days) 7 → 14 (at once: RDS applies a retention change between non-zero values immediately)',
      'deletion protection off → on (at once: RDS applies deletion protection immediately)',
    ]);
    expect(run.outputs.rdsChanged).toBe(true);
    expect(run.logs.map(l => l.message).join('\n')).toContain(
      '- instance class db.t4g.micro → db.t4g.small (in the maintenance window)',
    );
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);

    rds.reset();
    const plain = createCheckpointingContext(action, {
      input: { ...input, replicas: 3 },
    });
    await action.handler(plain.ctx);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toEqual([]);
    expect(plain.outputs.rdsChanged).toBe(false);
  });

  it('refuses RDS settings the shared rules or RDS refuse, naming the field', async () => {
    rds.reset();
    fakeModifiableRds(rds, { deletionProtection: true });
    const { action, api } = await setup();
    const read = jest.spyOn(api, 'read');
    await expect(
      action.handler(
        createCheckpointingContext(action, {
          input: { ...input, instanceClass: 'db.t4g' },
        }).ctx,
      ),
    ).rejects.toThrow(
      /Invalid instanceClass \(RDS instance class\): received "db.t4g"/,
    );
    expect(read).not.toHaveBeenCalled();
    await expect(
      action.handler(
        createCheckpointingContext(action, {
          input: { ...input, allocatedStorageGiB: 10 },
        }).ctx,
      ),
    ).rejects.toThrow(
      /Invalid allocatedStorageGiB \(allocated storage \(GiB\)\): received 10/,
    );
    await expect(
      action.handler(
        createCheckpointingContext(action, {
          input: { ...input, deletionProtection: false },
        }).ctx,
      ),
    ).rejects.toThrow(
      /Invalid deletionProtection: received false, .*liftDeletionProtection/,
    );
    const lifted = createCheckpointingContext(action, {
      input: {
        ...input,
        deletionProtection: false,
        liftDeletionProtection: true,
        applyImmediately: true,
      },
    });
    await action.handler(lifted.ctx);
    expect(lifted.outputs.changes).toEqual([
      'deletion protection on → off (at once)',
    ]);
  });

  it("changes TLS when asked and keeps today's otherwise", async () => {
    const { action } = await setup();
    const issued = createCheckpointingContext(action, {
      input: { ...input, tlsClusterIssuer: 'letsencrypt' },
    });
    await action.handler(issued.ctx);
    expect(issued.outputs).toMatchObject({
      tlsSecretName: 'demo-tls',
      tlsClusterIssuer: 'letsencrypt',
      changes: ['TLS ClusterIssuer none → letsencrypt'],
    });
    const off = createCheckpointingContext(action, {
      input: { ...input, removeTls: true },
    });
    await action.handler(off.ctx);
    expect(off.outputs.tlsSecretName).toBeUndefined();
    expect(off.outputs.changes).toEqual(['TLS Secret demo-tls → none']);
    await expect(
      action.handler(
        createCheckpointingContext(action, {
          input: { ...input, removeTls: true, tlsSecretName: 'x-tls' },
        }).ctx,
      ),
    ).rejects.toThrow(
      /Invalid removeTls: received true together with tlsSecretName/,
    );
  });
});
