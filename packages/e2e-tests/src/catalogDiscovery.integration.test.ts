import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
} from '@kubernetes/client-node';
import { getEntity } from './lib/catalogEntities';
import { eventually } from './lib/eventually';
import { StartedBackend, startBackend } from './lib/startBackend';
import { readStackEnv } from './stackEnv';

jest.setTimeout(300_000);

/** An MLflow Deployment without pods (the catalog module reads only the Deployment). */
function mlflowDeployment(
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  args: string[] = [],
): V1Deployment {
  const selector = { 'app.kubernetes.io/instance': name };
  return {
    metadata: {
      name,
      labels: { 'app.kubernetes.io/name': 'mlflow', ...selector, ...labels },
      annotations,
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          containers: [
            {
              name: 'mlflow',
              image: 'example/mlflow:3',
              command: ['mlflow'],
              args,
            },
          ],
        },
      },
    },
  };
}

describe('MLflow instances discovered from the cluster in the real catalog', () => {
  const suffix = Date.now().toString(36);
  const namespace = `discovery-${suffix}`;
  const managed = `disc-${suffix}`;
  const helm = `helm-${suffix}`;
  let backend: StartedBackend;
  let token: string;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  beforeAll(async () => {
    const env = readStackEnv();
    const kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    const overlay = process.env.STACK_APP_CONFIG;
    if (!overlay) {
      throw new Error(
        'STACK_APP_CONFIG is not set: run the tests through scripts/test, or eval "$(stack/stack env)" after stack/stack up',
      );
    }
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    backend = await startBackend({
      configPaths: [overlay],
      extraConfig: { mlflow: { catalog: { refreshIntervalSeconds: 3 } } },
    });
    token = await backend.guestToken();
  });

  afterAll(async () => {
    await backend?.stop();
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('shows an instance created by the deploy action and an adopted Helm install, and drops them once deleted', async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: mlflowDeployment(
        managed,
        { 'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow' },
        {
          'mlflow.org/tracking-url': `http://${managed}.mlflow.localhost`,
          'mlflow.org/owner': 'group:default/guests',
          'mlflow.org/environment': 'prod',
        },
      ),
    });
    await apps.createNamespacedDeployment({
      namespace,
      body: mlflowDeployment(
        helm,
        { 'app.kubernetes.io/managed-by': 'Helm' },
        {},
        ['server', '--default-artifact-root', `s3://${helm}-bucket/mlflow`],
      ),
    });

    type Component = {
      metadata: { annotations: Record<string, string> };
      spec: { lifecycle: string; owner: string };
    };
    const [ours, adopted] = await eventually(
      async () => {
        const found = await Promise.all(
          [managed, helm].map(name =>
            getEntity<Component>(backend.baseUrl, token, {
              kind: 'component',
              name,
            }),
          ),
        );
        expect(found).not.toContain(undefined);
        return found as Component[];
      },
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
    expect(ours.spec).toMatchObject({
      lifecycle: 'production',
      owner: 'group:default/guests',
    });
    expect(adopted.metadata.annotations).toMatchObject({
      'mlflow.org/adopted': 'true',
      'mlflow.org/s3-artifact-root': `s3://${helm}-bucket/mlflow`,
    });
    expect(adopted.spec.owner).toBe('group:default/unknown');

    await apps.deleteNamespacedDeployment({ namespace, name: managed });
    await eventually(
      async () => {
        expect(
          await getEntity(backend.baseUrl, token, {
            kind: 'component',
            name: managed,
          }),
        ).toBeUndefined();
        expect(
          await getEntity(backend.baseUrl, token, {
            kind: 'resource',
            name: `${managed}-db`,
          }),
        ).toBeUndefined();
      },
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
    expect(
      await getEntity(backend.baseUrl, token, {
        kind: 'component',
        name: helm,
      }),
    ).toBeDefined();
  });
});
