import { mockServices } from '@backstage/backend-test-utils';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
} from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { verifyMlflowDeployment } from '@stateful-mlflow/plugin-mlflow-node';
import { KubernetesMlflowDeploymentLister } from './MlflowDeploymentLister';
import { MlflowEntityProvider } from './MlflowEntityProvider';
import { FakeCatalog } from './testCatalog';
import {
  helmDeployment,
  signedDeployment,
  TEST_SIGNING_KEY,
} from './testDeployments';

jest.setTimeout(120_000);

/** The local stack's apiserver, from the KUBECONFIG that `stack/stack env` exports. */
function stackKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(readStackEnv().kubeconfig);
  return kc;
}

/** A cluster that never answers: nothing listens on port 1. */
function deadClusterConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'down', server: 'https://127.0.0.1:1', skipTLSVerify: true },
    { name: 'nobody', token: 'none' },
  );
  return kc;
}

/** No pods: the node agent would start them, and the provider only reads the Deployment. */
function withoutPods(deployment: V1Deployment, namespace: string) {
  const copy: V1Deployment = JSON.parse(JSON.stringify(deployment));
  copy.metadata!.namespace = namespace;
  delete copy.metadata!.creationTimestamp;
  copy.spec!.replicas = 0;
  copy.spec!.template.metadata = { labels: copy.spec!.selector.matchLabels };
  return copy;
}

describe('MlflowEntityProvider against the local stack apiserver', () => {
  const suffix = Date.now().toString(36);
  const home = `catalog-it-${suffix}`;
  const other = `catalog-it-forge-${suffix}`;
  const adopted = `catalog-it-adopt-${suffix}`;
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  beforeAll(async () => {
    kc = stackKubeConfig();
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    for (const name of [home, other, adopted]) {
      await core.createNamespace({ body: { metadata: { name } } });
    }
  });

  afterAll(async () => {
    for (const name of [home, other, adopted]) {
      await core?.deleteNamespace({ name }).catch(() => undefined);
    }
  });

  /** One backend replica: a provider per cluster (`local` real, `down` dead) on the shared catalog. */
  async function replica(catalog: FakeCatalog, failing = new Set<string>()) {
    const real = new KubernetesMlflowDeploymentLister(
      cluster => (cluster === 'local' ? kc : deadClusterConfig()),
      5_000,
    );
    const lister = {
      list: (cluster: string) =>
        failing.has(cluster)
          ? Promise.reject(new Error(`${cluster} unreachable`))
          : real.list(cluster),
    };
    const providers = ['local', 'down'].map(
      cluster =>
        new MlflowEntityProvider({
          cluster,
          lister,
          verify: (d, c) => verifyMlflowDeployment(d, c, [TEST_SIGNING_KEY]),
          adoptNamespaces: [
            {
              namespace: adopted,
              owner: 'group:default/platform-team',
              entityNamespace: 'mlflow-adopted',
            },
          ],
          logger: mockServices.logger.mock(),
        }),
    );
    for (const provider of providers) {
      await provider.connect(catalog.connection(provider.getProviderName()));
    }
    return () => Promise.all(providers.map(p => p.refresh()));
  }

  /** The refs of this test's instances (the stack may run others). */
  const ours = (catalog: FakeCatalog) =>
    catalog
      .refs()
      .filter(
        ref => ref.includes(`it${suffix}`) && ref.startsWith('component:'),
      );

  it('never trusts a forged copy in another namespace nor lets it change the owner', async () => {
    const name = `it${suffix}-a`;
    const real = signedDeployment(name, { namespace: home });
    const forged = JSON.parse(JSON.stringify(real)) as V1Deployment;
    forged.metadata!.annotations!['mlflow.org/owner'] = 'user:default/mallory';
    await apps.createNamespacedDeployment({
      namespace: home,
      body: withoutPods(real, home),
    });
    for (const namespace of [other, adopted]) {
      await apps.createNamespacedDeployment({
        namespace,
        body: withoutPods(forged, namespace),
      });
    }

    const catalog = new FakeCatalog();
    await (
      await replica(catalog)
    )();

    expect(ours(catalog)).toEqual([
      `component:default/${name}`,
      `component:mlflow-adopted/${name}`,
    ]);
    const entity = catalog.get(`component:default/${name}`)!;
    expect(entity.spec?.owner).toBe('group:default/ml-team');
    expect(entity.metadata.annotations).toMatchObject({
      'mlflow.org/trusted': 'true',
      'backstage.io/kubernetes-namespace': home,
    });
    const copy = catalog.get(`component:mlflow-adopted/${name}`)!;
    expect(copy.spec?.owner).toBe('group:default/platform-team');
    expect(copy.metadata.annotations?.['mlflow.org/trusted']).toBeUndefined();
    expect(
      copy.metadata.annotations?.['mlflow.org/rds-instance-id'],
    ).toBeUndefined();
    expect(
      catalog.entities().some(e => e.spec?.owner === 'user:default/mallory'),
    ).toBe(false);
  });

  it('with one cluster failing, neither resurrects a deleted instance nor drops a live one, on two replicas', async () => {
    const deleted = `it${suffix}-old`;
    const live = `it${suffix}-kept`;
    const created = `it${suffix}-new`;
    for (const name of [deleted, live]) {
      await apps.createNamespacedDeployment({
        namespace: home,
        body: withoutPods(signedDeployment(name, { namespace: home }), home),
      });
    }
    await apps.createNamespacedDeployment({
      namespace: adopted,
      body: withoutPods(helmDeployment(`it${suffix}-helm`), adopted),
    });

    const catalog = new FakeCatalog();
    const failingOnA = new Set<string>();
    const replicaA = await replica(catalog, failingOnA);
    const replicaB = await replica(catalog);

    // `down` never answers, yet `local` is applied.
    await replicaA();
    expect(ours(catalog)).toEqual(
      expect.arrayContaining([
        `component:default/${deleted}`,
        `component:default/${live}`,
        `component:mlflow-adopted/it${suffix}-helm`,
      ]),
    );
    expect(catalog.byProvider.has('MlflowEntityProvider:down')).toBe(false);

    await apps.deleteNamespacedDeployment({ namespace: home, name: deleted });
    await apps.createNamespacedDeployment({
      namespace: home,
      body: withoutPods(signedDeployment(created, { namespace: home }), home),
    });
    await replicaB();
    const afterB = ours(catalog);
    expect(afterB).toContain(`component:default/${created}`);
    expect(afterB).not.toContain(`component:default/${deleted}`);

    // Replica A, which last saw `deleted` and not `created`, now fails to reach `local`.
    failingOnA.add('local');
    await replicaA();
    expect(ours(catalog)).toEqual(afterB);
    expect(ours(catalog)).toEqual(
      expect.arrayContaining([
        `component:default/${live}`,
        `component:default/${created}`,
      ]),
    );
  });
});
