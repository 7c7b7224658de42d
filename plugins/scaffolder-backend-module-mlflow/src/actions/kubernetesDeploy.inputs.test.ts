import { InputError } from '@backstage/errors';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  clusterWithSecret,
  deployAction,
  input,
} from '../__testUtils__/kubernetesDeployFixtures';

describe('mlflow:kubernetes:deploy', () => {
  let cluster: FakeKubernetesApi;
  let action: ReturnType<typeof deployAction>;

  beforeEach(() => {
    cluster = clusterWithSecret();
    action = deployAction(cluster);
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
        allowAnonymousAccess: true,
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

  it('asks for the database step when its Secret is missing, before applying anything', async () => {
    cluster.objects.delete('Secret/mlflow-demo/demo-db');
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /Secret mlflow-demo\/demo-db does not exist. Run mlflow:database:create/,
    );
    const fresh = new FakeKubernetesApi();
    const inEmptyCluster = deployAction(fresh);
    await expect(
      inEmptyCluster.handler(
        createCheckpointingContext(inEmptyCluster, { input }).ctx,
      ),
    ).rejects.toThrow(/does not exist. Run mlflow:database:create/);
    expect(cluster.applied).toHaveLength(0);
    expect(fresh.applied).toHaveLength(0);
  });
});
