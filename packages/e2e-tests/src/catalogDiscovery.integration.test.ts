import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
} from '@kubernetes/client-node';
import { signMlflowDeployment } from '@stateful-mlflow/plugin-mlflow-node';
import { getEntity } from './lib/catalogEntities';
import { eventually } from './lib/eventually';
import { StartedBackend, startBackend } from './lib/startBackend';
import { readStackEnv } from '@internal/stack-env';

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

/** The stack overlay's cluster name; this test's own key signs as the deploy action would. */
const CLUSTER = 'local';
const SIGNING_KEY = `catalog-discovery-test-key-${Date.now()}-0123456789`;

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
    const overlay = env.appConfigPath;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    backend = await startBackend({
      configPaths: [overlay],
      extraConfig: {
        mlflow: { identity: { signingKey: SIGNING_KEY } },
        catalog: {
          providers: {
            mlflow: {
              schedule: { frequency: { seconds: 3 }, timeout: { minutes: 1 } },
              adoptNamespaces: [{ namespace, owner: 'group:default/unknown' }],
            },
          },
        },
      },
    });
    token = await backend.guestToken();
  });

  afterAll(async () => {
    await backend?.stop();
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('shows an instance signed by the deploy action and an adopted Helm install, and drops them once deleted', async () => {
    const signed = mlflowDeployment(
      managed,
      { 'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow' },
      {
        'mlflow.org/tracking-url': `http://${managed}.mlflow.localhost`,
        'mlflow.org/owner': 'group:default/guests',
        'mlflow.org/environment': 'prod',
      },
    );
    signed.metadata!.namespace = namespace;
    await apps.createNamespacedDeployment({
      namespace,
      body: signMlflowDeployment(signed, CLUSTER, SIGNING_KEY),
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
          [{ name: managed }, { name: helm, namespace: 'mlflow-adopted' }].map(
            ref =>
              getEntity<Component>(backend.baseUrl, token, {
                kind: 'component',
                ...ref,
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
    expect(ours.metadata.annotations['mlflow.org/trusted']).toBe('true');
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
        namespace: 'mlflow-adopted',
        name: helm,
      }),
    ).toBeDefined();
  });
});
