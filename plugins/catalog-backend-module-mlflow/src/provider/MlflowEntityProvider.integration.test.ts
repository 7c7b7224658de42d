import { mockServices } from '@backstage/backend-test-utils';
import { EntityProviderMutation } from '@backstage/plugin-catalog-node';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
} from '@kubernetes/client-node';
import { KubernetesMlflowDeploymentLister } from './MlflowDeploymentLister';
import { MlflowEntityProvider } from './MlflowEntityProvider';
import { helmDeployment, managedDeployment } from './testDeployments';

jest.setTimeout(120_000);

/** The local stack's apiserver, from the KUBECONFIG that `stack/stack env` exports. */
function stackKubeConfig(): KubeConfig {
  const path = process.env.KUBECONFIG;
  if (!path) {
    throw new Error(
      'KUBECONFIG is not set: this test needs the local stack. Run it through scripts/test, or stack/stack up and eval "$(stack/stack env)" first.',
    );
  }
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** No pods: the node agent would start them, and the provider only reads the Deployment. */
function withoutPods(deployment: V1Deployment, namespace: string) {
  deployment.metadata!.namespace = namespace;
  deployment.spec!.replicas = 0;
  deployment.spec!.template.metadata = {
    labels: deployment.spec!.selector.matchLabels,
  };
  return deployment;
}

describe('MlflowEntityProvider against the local stack apiserver', () => {
  const namespace = `catalog-it-${Date.now().toString(36)}`;
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  beforeAll(async () => {
    kc = stackKubeConfig();
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('emits the entities of an applied MLflow Deployment and drops them once it is deleted', async () => {
    const mutations: EntityProviderMutation[] = [];
    const provider = new MlflowEntityProvider({
      clusters: ['local'],
      defaultOwner: 'group:default/unknown',
      lister: new KubernetesMlflowDeploymentLister(() => kc, 10_000),
      logger: mockServices.logger.mock(),
    });
    await provider.connect({
      applyMutation: async m => {
        mutations.push(m);
      },
      refresh: async () => {},
    });
    const names = (m: EntityProviderMutation) =>
      m.type === 'full'
        ? m.entities
            .filter(e =>
              e.entity.metadata.annotations?.[
                'backstage.io/managed-by-location'
              ]?.includes(`/${namespace}/`),
            )
            .map(e => `${e.entity.kind}:${e.entity.metadata.name}`)
            .sort()
        : [];

    const instance = `it-${namespace.slice(-8)}`;
    await apps.createNamespacedDeployment({
      namespace,
      body: withoutPods(managedDeployment(instance), namespace),
    });
    await apps.createNamespacedDeployment({
      namespace,
      body: withoutPods(helmDeployment(`${instance}-helm`), namespace),
    });
    await provider.refresh();
    expect(names(mutations[0])).toEqual([
      `Component:${instance}`,
      `Component:${instance}-helm`,
      `Resource:${instance}-artifacts`,
      `Resource:${instance}-db`,
      `Resource:${instance}-helm-artifacts`,
      `Resource:${instance}-helm-db`,
    ]);
    const adopted =
      mutations[0].type === 'full' &&
      mutations[0].entities.find(
        e => e.entity.metadata.name === `${instance}-helm`,
      );
    expect(adopted && adopted.entity.metadata.annotations).toMatchObject({
      'mlflow.org/adopted': 'true',
      'backstage.io/kubernetes-namespace': namespace,
    });

    await apps.deleteNamespacedDeployment({ namespace, name: instance });
    await provider.refresh();
    expect(names(mutations[1])).toEqual([
      `Component:${instance}-helm`,
      `Resource:${instance}-helm-artifacts`,
      `Resource:${instance}-helm-db`,
    ]);
  });
});
