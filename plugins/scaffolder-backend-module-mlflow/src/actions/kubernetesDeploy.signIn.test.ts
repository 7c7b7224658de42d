import {
  fakeMlflowAuthApi,
  SEEDED_ADMIN_PASSWORD,
  SEEDED_HEALTH_PASSWORD,
} from '../__testUtils__/authFixtures';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  clusterWithSecret,
  deployAction,
  input,
  OURS,
} from '../__testUtils__/kubernetesDeployFixtures';
import { testTenancy } from '../__testUtils__/tenancy';
import { createKubernetesDeployAction } from '../actionFactories';
import { withInputDefaults } from './withInputDefaults';

describe('mlflow:kubernetes:deploy', () => {
  let cluster: FakeKubernetesApi;
  let action: ReturnType<typeof deployAction>;

  beforeEach(() => {
    cluster = clusterWithSecret();
    action = deployAction(cluster);
  });

  it('turns sign-in on for an anonymous instance, sets up the health user as the admin, and never shows a password', async () => {
    cluster.objects.set('Deployment/mlflow-demo/demo', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'demo',
        namespace: 'mlflow-demo',
        labels: OURS,
        annotations: { 'mlflow.org/owner': 'user:default/mock' },
      },
    });
    const mlflow = fakeMlflowAuthApi();
    const withApi = withInputDefaults(
      createKubernetesDeployAction({
        kubernetes: () => cluster,
        pollIntervalMs: 1,
        ...testTenancy(),
        fetch: mlflow.fetch,
      }),
    );
    const { ctx, logs, outputs } = createCheckpointingContext(withApi, {
      input,
    });
    await withApi.handler(ctx);
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Turning on sign-in for MLflow instance demo/,
    );
    expect(mlflow.users.has('backstage-health')).toBe(true);
    const scanned = JSON.stringify({ logs, outputs });
    expect(scanned).not.toContain(SEEDED_ADMIN_PASSWORD);
    expect(scanned).not.toContain(SEEDED_HEALTH_PASSWORD);
  });

  it('creates the health-check user as the admin after the rollout, then checks it can search', async () => {
    const mlflow = fakeMlflowAuthApi();
    const withApi = withInputDefaults(
      createKubernetesDeployAction({
        kubernetes: () => cluster,
        pollIntervalMs: 1,
        ...testTenancy(),
        fetch: mlflow.fetch,
      }),
    );
    const { ctx, logs } = createCheckpointingContext(withApi, { input });
    await withApi.handler(ctx);
    expect(mlflow.calls).toEqual([
      {
        method: 'POST',
        path: '/api/2.0/mlflow/experiments/search',
        user: 'backstage-health',
      },
      { method: 'GET', path: '/api/2.0/mlflow/users/get', user: 'admin' },
      { method: 'POST', path: '/api/2.0/mlflow/users/create', user: 'admin' },
      {
        method: 'POST',
        path: '/api/2.0/mlflow/experiments/search',
        user: 'backstage-health',
      },
    ]);
    expect(mlflow.users.has('backstage-health')).toBe(true);
    expect(logs.map(l => l.message)).toContain(
      'Health-check user backstage-health created',
    );
  });

  it('asks for the database step when the sign-in Secret is missing, before applying anything', async () => {
    cluster.objects.delete('Secret/mlflow-demo/demo-mlflow-auth');
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /sign-in Secret mlflow-demo\/demo-mlflow-auth does not exist\. Run mlflow:database:create/,
    );
    expect(cluster.applied).toHaveLength(0);
  });
});
