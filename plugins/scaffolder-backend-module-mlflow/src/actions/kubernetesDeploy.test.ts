import { InputError } from '@backstage/errors';
import { V1Deployment } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { createKubernetesDeployAction, IMAGE_HINT } from './kubernetesDeploy';

const input = {
  name: 'demo',
  cluster: 'local',
  image: 'ghcr.io/acme/mlflow:3.1.0',
  hostname: 'demo.mlflow.localhost',
  region: 'eu-west-1',
  artifactsDestination: 's3://acme-mlflow-demo/artifacts',
  rdsInstanceId: 'mlflow-demo',
  databaseName: 'mlflow_demo',
};

function clusterWithSecret() {
  const cluster = new FakeKubernetesApi();
  cluster.objects.set('Namespace//mlflow-demo', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'mlflow-demo',
      labels: { 'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow' },
    },
  });
  cluster.objects.set('Secret/mlflow-demo/demo-db', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'demo-db', namespace: 'mlflow-demo' },
  });
  return cluster;
}

describe('mlflow:kubernetes:deploy', () => {
  let cluster: FakeKubernetesApi;
  let action: ReturnType<typeof createKubernetesDeployAction>;

  beforeEach(() => {
    cluster = clusterWithSecret();
    action = createKubernetesDeployAction({
      kubernetes: () => cluster,
      pollIntervalMs: 1,
    });
  });

  it('applies every object, the migration Job completing before the Deployment', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);
    expect(cluster.applied.map(a => a.key)).toEqual([
      'Namespace//mlflow-demo',
      'ServiceAccount/mlflow-demo/mlflow',
      'ConfigMap/mlflow-demo/demo-config',
      'Service/mlflow-demo/demo',
      'NetworkPolicy/mlflow-demo/demo',
      'PodDisruptionBudget/mlflow-demo/demo',
      expect.stringMatching(/^Job\/mlflow-demo\/demo-db-upgrade-[0-9a-f]{10}$/),
      'Deployment/mlflow-demo/demo',
      'Ingress/mlflow-demo/demo',
    ]);
    expect(cluster.applied.every(a => !a.dryRun)).toBe(true);
    expect(outputs).toEqual({
      namespace: 'mlflow-demo',
      deployment: 'demo',
      serviceUrl: 'http://demo.mlflow-demo.svc.cluster.local:5000',
      trackingUrl: 'http://demo.mlflow.localhost',
    });
  });

  it('treats blank optional inputs (an empty form field) as absent', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, {
      input: {
        ...input,
        namespace: '',
        tlsSecretName: '',
        ingressClassName: '',
        roleArn: '',
        system: '',
        databaseSecretName: '',
        backendStoreUri: '',
        manifestsPath: '',
      },
    });
    await action.handler(ctx);
    expect(outputs).toMatchObject({
      namespace: 'mlflow-demo',
      trackingUrl: 'http://demo.mlflow.localhost',
    });
    expect(outputs.manifestsPath).toBeUndefined();
  });

  it('surfaces a failed migration with its termination message and the image hint', async () => {
    cluster.jobOutcome = 'fail';
    const { ctx } = createCheckpointingContext(action, { input });
    const error = await action.handler(ctx).catch(e => e);
    expect(error.message).toMatch(
      /database migration Job mlflow-demo\/demo-db-upgrade-\w+ failed/,
    );
    expect(error.message).toContain("No module named 'psycopg2'");
    expect(error.message).toContain(IMAGE_HINT);
    expect(cluster.stored('Deployment')).toHaveLength(0);
  });

  it('fails the rollout wait after its timeout with the replica counts', async () => {
    cluster.deploymentBecomesReady = false;
    const slow = createKubernetesDeployAction({
      kubernetes: () => cluster,
      pollIntervalMs: 200,
    });
    const { ctx } = createCheckpointingContext(slow, {
      input: { ...input, timeoutSeconds: 1 },
    });
    await expect(slow.handler(ctx)).rejects.toThrow(
      /Timed out after 1s waiting for Deployment mlflow-demo\/demo.*0\/2 updated, 0\/2 ready/,
    );
  });

  it('refuses a sqlite store or local artifacts without allowEphemeralStorage, before touching the cluster', async () => {
    for (const extra of [
      { backendStoreUri: 'sqlite:////tmp/mlflow.db' },
      { artifactsDestination: '/tmp/artifacts' },
      { artifactsDestination: 'file:///tmp/artifacts' },
    ]) {
      const { ctx } = createCheckpointingContext(action, {
        input: { ...input, ...extra },
      });
      const error = await action.handler(ctx).catch(e => e);
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(
        /Refusing ephemeral storage.*a restart wipes every experiment/,
      );
    }
    expect(cluster.applied).toHaveLength(0);
  });

  it('deploys ephemeral storage with a loud warning when allowed', async () => {
    const { ctx, logs } = createCheckpointingContext(action, {
      input: {
        ...input,
        allowEphemeralStorage: true,
        backendStoreUri: 'sqlite:////tmp/mlflow.db',
        artifactsDestination: '/tmp/artifacts',
        replicas: 1,
      },
    });
    await action.handler(ctx);
    const warning = logs.find(l => l.level === 'warn');
    expect(warning?.message).toMatch(
      /EPHEMERAL STORAGE.*LOST WHEN A POD RESTARTS/,
    );
    expect(cluster.stored('Job')).toHaveLength(0);
  });

  it('never takes a database URI inline', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: {
        ...input,
        allowEphemeralStorage: true,
        backendStoreUri: 'postgresql://u:p@db:5432/mlflow',
      },
    });
    const error = await action.handler(ctx).catch(e => e);
    expect(error.message).toMatch(/never written into a manifest/);
    expect(error.message).not.toContain('u:p@');
  });

  it.each([
    ['name', 'demo\nkind: Secret', /Invalid name/],
    ['namespace', 'kube-system', /Invalid namespace/],
    ['image', 'ghcr.io/acme/mlflow:3.1.0; rm -rf /', /Invalid image/],
    ['hostname', 'localhost', /Invalid hostname/],
    ['artifactsDestination', 'gs://bucket/x', /Invalid artifactsDestination/],
    ['artifactsDestination', 's3://Bad_Bucket/x', /S3 bucket name/],
    ['replicas', 1, /at least 2 in prod/],
    ['extraEnv', { AWS_SECRET_ACCESS_KEY: 'x' }, /non-secret settings only/],
    ['memoryLimit', 'lots', /Kubernetes quantity/],
    ['system', 'a b', /Invalid system/],
  ])(
    'rejects %s %j before touching the cluster',
    async (field, value, message) => {
      const { ctx } = createCheckpointingContext(action, {
        input: { ...input, environment: 'prod', [field]: value },
      });
      await expect(action.handler(ctx)).rejects.toThrow(message);
      expect(cluster.applied).toHaveLength(0);
    },
  );

  it('refuses when replicas × workers cannot fit the database connections', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, replicas: 10, workers: 8, dbMaxConnections: 50 },
    });
    await expect(action.handler(ctx)).rejects.toThrow(
      /do not fit in dbMaxConnections 50/,
    );
  });

  it('sends every manifest with dryRun=All and stores nothing during a dry-run', async () => {
    const { ctx, outputs, logs } = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    await action.handler(ctx);
    expect(cluster.applied).toHaveLength(9);
    expect(cluster.applied.every(a => a.dryRun)).toBe(true);
    expect(cluster.stored('Deployment')).toHaveLength(0);
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Plan for MLflow instance demo/,
    );
    expect(outputs.trackingUrl).toBe('http://demo.mlflow.localhost');
  });

  it('refuses objects that exist but are not ours, and uses a foreign namespace as it is', async () => {
    cluster.objects.set('Namespace//mlflow-demo', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'mlflow-demo' },
    });
    cluster.objects.set('Service/mlflow-demo/demo', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'demo',
        namespace: 'mlflow-demo',
        labels: { app: 'other' },
      },
    });
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /Service mlflow-demo\/demo already exists and is not managed by Backstage's MLflow actions/,
    );
    expect(cluster.applied).toHaveLength(0);

    cluster.objects.delete('Service/mlflow-demo/demo');
    const again = createCheckpointingContext(action, { input });
    await action.handler(again.ctx);
    expect(cluster.applied.map(a => a.key)).not.toContain(
      'Namespace//mlflow-demo',
    );
  });

  it('asks for the database step when its Secret is missing, before applying anything', async () => {
    cluster.objects.delete('Secret/mlflow-demo/demo-db');
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /Secret mlflow-demo\/demo-db does not exist. Run mlflow:database:create/,
    );
    const fresh = new FakeKubernetesApi();
    const inEmptyCluster = createKubernetesDeployAction({
      kubernetes: () => fresh,
    });
    await expect(
      inEmptyCluster.handler(
        createCheckpointingContext(inEmptyCluster, { input }).ctx,
      ),
    ).rejects.toThrow(/does not exist. Run mlflow:database:create/);
    expect(cluster.applied).toHaveLength(0);
    expect(fresh.applied).toHaveLength(0);
  });

  it('replays on recovery and converges on a second run', async () => {
    const first = createCheckpointingContext(action, { input });
    await action.handler(first.ctx);
    const applied = cluster.applied.length;
    const recovered = createCheckpointingContext(action, {
      input,
      store: first.store,
    });
    await action.handler(recovered.ctx);
    expect(recovered.executed).toEqual([]);
    expect(cluster.applied).toHaveLength(applied);

    const rerun = createCheckpointingContext(action, { input });
    await action.handler(rerun.ctx);
    expect(cluster.stored('Deployment')).toHaveLength(1);
    expect(
      (cluster.stored('Deployment')[0] as V1Deployment).metadata!.generation,
    ).toBe(2);
  });

  it('writes the manifests into the workspace without applying when apply is false', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'mlflow-deploy-'));
    const { ctx, outputs } = createCheckpointingContext(action, {
      input: {
        ...input,
        apply: false,
        manifestsPath: 'manifests/mlflow.yaml',
        description: 'key: value\n---\nkind: Secret',
      },
      workspacePath,
    });
    await action.handler(ctx);
    expect(cluster.applied).toHaveLength(0);
    expect(outputs.manifestsPath).toBe('manifests/mlflow.yaml');
    const docs = yaml
      .parseAllDocuments(
        readFileSync(join(workspacePath, 'manifests/mlflow.yaml'), 'utf8'),
      )
      .map(d => d.toJSON());
    expect(docs.map(d => d.kind)).toContain('Deployment');
    expect(docs.map(d => d.kind)).not.toContain('Secret');
    const deployment = docs.find(d => d.kind === 'Deployment');
    expect(deployment.metadata.annotations['mlflow.org/description']).toBe(
      'key: value\n---\nkind: Secret',
    );
  });

  it('refuses a manifestsPath outside the workspace', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, apply: false, manifestsPath: '../outside.yaml' },
      workspacePath: mkdtempSync(join(tmpdir(), 'mlflow-deploy-')),
    });
    await expect(action.handler(ctx)).rejects.toThrow(/outside/i);
  });
});
