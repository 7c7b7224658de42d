import { mockCredentials } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { fakeAuthorization, MOCK_USER } from '../__testUtils__/tenancy';
import { createCatalogRemoveInstanceAction } from './catalogRemoveInstance';

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
]);
const LOCATION = 'mlflow-cluster:local/mlflow-demo/demo';

function entity(
  kind: string,
  name: string,
  uid: string,
  location = LOCATION,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind,
    metadata: {
      name,
      namespace: 'default',
      uid,
      annotations: {
        'backstage.io/managed-by-location': location,
        'mlflow.org/kubernetes-cluster': 'local',
        'backstage.io/kubernetes-namespace': 'mlflow-demo',
      },
    },
    spec: { type: 'service', owner: MOCK_USER },
  };
}

/** A catalog holding entities until they are removed by uid. */
function fakeCatalog(entities: Entity[]) {
  const stored = [...entities];
  const removed: string[] = [];
  return {
    removed,
    getEntityByRef: async (ref: string | { kind: string; name: string }) =>
      stored.find(
        e =>
          typeof ref === 'string' &&
          `${e.kind.toLocaleLowerCase('en-US')}:default/${e.metadata.name}` ===
            ref,
      ),
    getEntities: async (request?: { filter?: unknown }) => {
      const filter = (request?.filter ?? {}) as Record<string, string>;
      const [key, value] = Object.entries(filter)[0] ?? [];
      const annotation = key?.replace('metadata.annotations.', '');
      return {
        items: stored.filter(
          e => !annotation || e.metadata.annotations?.[annotation] === value,
        ),
      };
    },
    removeEntityByUid: async (uid: string) => {
      removed.push(uid);
      const index = stored.findIndex(e => e.metadata.uid === uid);
      if (index >= 0) stored.splice(index, 1);
    },
  };
}

function setup(
  entities: Entity[],
  authorization = fakeAuthorization({ entities }),
) {
  const catalog = fakeCatalog(entities);
  const api = new FakeKubernetesApi();
  const action = createCatalogRemoveInstanceAction({
    catalog: catalog as never,
    auth: {
      getOwnServiceCredentials: async () =>
        mockCredentials.service('plugin:scaffolder'),
    },
    clusters,
    kubernetes: () => api,
    authorization,
    pollIntervalMs: 1,
  });
  return { catalog, api, action };
}

const input = { name: 'demo', cluster: 'local' };

describe('mlflow:catalog:removeInstance', () => {
  it('removes the Component and the Resources from its location, and nothing else; a rerun removes nothing', async () => {
    const entities = [
      entity('Component', 'demo', 'u1'),
      entity('Resource', 'demo-db', 'u2'),
      entity('Resource', 'demo-artifacts', 'u3'),
      entity(
        'Component',
        'other',
        'u4',
        'mlflow-cluster:local/mlflow-other/other',
      ),
    ];
    const { catalog, action } = setup(entities);
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    expect(catalog.removed.sort()).toEqual(['u1', 'u2', 'u3']);
    expect(run.outputs.removedEntities).toEqual([
      'component:default/demo',
      'resource:default/demo-db',
      'resource:default/demo-artifacts',
    ]);
    const again = createCheckpointingContext(action, { input });
    await action.handler(again.ctx);
    expect(catalog.removed).toHaveLength(3);
    expect(again.outputs.removedEntities).toEqual([]);
  });

  it('refuses while the Deployment exists, removing nothing', async () => {
    const { catalog, api, action } = setup([entity('Component', 'demo', 'u1')]);
    await api.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'demo', namespace: 'mlflow-demo' },
      },
      { dryRun: false },
    );
    const run = createCheckpointingContext(action, { input });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /Deployment mlflow-demo\/demo of MLflow instance "demo" still exists.*Run mlflow:kubernetes:delete first/,
    );
    expect(catalog.removed).toEqual([]);
  });

  it('refuses a non-owner, naming the owner', async () => {
    const entities = [entity('Component', 'demo', 'u1')];
    const { catalog, action } = setup(entities);
    const run = createCheckpointingContext(action, { input });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /user:default\/mallory may not decommission .*owned by user:default\/mock/,
    );
    expect(catalog.removed).toEqual([]);
  });

  it('refuses a Component of that name that is not this instance', async () => {
    const other = entity('Component', 'demo', 'u1');
    other.metadata.annotations!['backstage.io/kubernetes-namespace'] =
      'elsewhere';
    const { catalog, action } = setup([other]);
    const run = createCheckpointingContext(action, { input });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /component:default\/demo in the catalog is not the MLflow instance in namespace mlflow-demo/,
    );
    expect(catalog.removed).toEqual([]);
  });

  it('plans in dry-run without removing', async () => {
    const { catalog, action } = setup([entity('Component', 'demo', 'u1')]);
    const run = createCheckpointingContext(action, { input, isDryRun: true });
    await action.handler(run.ctx);
    expect(catalog.removed).toEqual([]);
    expect(run.logs.map(l => l.message)).toContain(
      'Plan for the catalog: remove component:default/demo',
    );
  });
});
