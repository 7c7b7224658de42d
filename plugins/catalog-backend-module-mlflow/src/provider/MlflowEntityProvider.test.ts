import { mockServices } from '@backstage/backend-test-utils';
import {
  EntityProviderConnection,
  EntityProviderMutation,
} from '@backstage/plugin-catalog-node';
import {
  ClusterMlflowObjects,
  MlflowDeploymentLister,
} from './MlflowDeploymentLister';
import { MlflowEntityProvider } from './MlflowEntityProvider';
import { helmDeployment, managedDeployment } from './testDeployments';

/** A lister whose clusters' contents the test sets; `Error` values make the listing fail. */
class FakeLister implements MlflowDeploymentLister {
  readonly clusters = new Map<string, ClusterMlflowObjects | Error>();

  async list(cluster: string): Promise<ClusterMlflowObjects> {
    const objects = this.clusters.get(cluster) ?? {
      deployments: [],
      ingresses: [],
    };
    if (objects instanceof Error) {
      throw objects;
    }
    return objects;
  }
}

function setup(clusters = ['local', 'eks']) {
  const lister = new FakeLister();
  const mutations: EntityProviderMutation[] = [];
  const connection: EntityProviderConnection = {
    applyMutation: async mutation => {
      mutations.push(mutation);
    },
    refresh: jest.fn(),
  };
  const logger = mockServices.logger.mock();
  const provider = new MlflowEntityProvider({
    clusters,
    defaultOwner: 'group:default/unknown',
    lister,
    logger,
  });
  const refs = (mutation: EntityProviderMutation) => {
    if (mutation.type !== 'full') {
      throw new Error('expected a full mutation');
    }
    return mutation.entities
      .map(e => `${e.entity.kind}:${e.entity.metadata.name}`)
      .sort();
  };
  return { lister, mutations, connection, logger, provider, refs };
}

describe('MlflowEntityProvider', () => {
  it('emits the three entities of every MLflow Deployment of every cluster in one full mutation', async () => {
    const { lister, mutations, connection, provider, refs } = setup();
    lister.clusters.set('local', {
      deployments: [managedDeployment('demo')],
      ingresses: [],
    });
    lister.clusters.set('eks', {
      deployments: [helmDeployment('team-a')],
      ingresses: [],
    });
    await provider.connect(connection);
    await provider.refresh();

    expect(mutations).toHaveLength(1);
    expect(refs(mutations[0])).toEqual([
      'Component:demo',
      'Component:team-a',
      'Resource:demo-artifacts',
      'Resource:demo-db',
      'Resource:team-a-artifacts',
      'Resource:team-a-db',
    ]);
  });

  it('drops the entities of a deleted Deployment on the next refresh', async () => {
    const { lister, mutations, connection, provider, refs } = setup(['local']);
    lister.clusters.set('local', {
      deployments: [managedDeployment('demo'), managedDeployment('other')],
      ingresses: [],
    });
    await provider.connect(connection);
    await provider.refresh();
    lister.clusters.set('local', {
      deployments: [managedDeployment('other')],
      ingresses: [],
    });
    await provider.refresh();

    expect(refs(mutations[1])).toEqual([
      'Component:other',
      'Resource:other-artifacts',
      'Resource:other-db',
    ]);
  });

  it('gives same-named instances of two clusters distinct entity names', async () => {
    const { lister, mutations, connection, provider, refs } = setup();
    lister.clusters.set('local', {
      deployments: [
        managedDeployment('demo', { createdAt: '2026-01-01T00:00:00Z' }),
      ],
      ingresses: [],
    });
    lister.clusters.set('eks', {
      deployments: [
        managedDeployment('demo', { createdAt: '2026-02-01T00:00:00Z' }),
      ],
      ingresses: [],
    });
    await provider.connect(connection);
    await provider.refresh();
    expect(refs(mutations[0])).toEqual([
      'Component:demo',
      'Component:demo-mlflow-demo',
      'Resource:demo-artifacts',
      'Resource:demo-db',
      'Resource:demo-mlflow-demo-artifacts',
      'Resource:demo-mlflow-demo-db',
    ]);
  });

  it('keeps the last listing of a cluster that stops answering', async () => {
    const { lister, mutations, connection, logger, provider, refs } = setup();
    lister.clusters.set('local', {
      deployments: [managedDeployment('demo')],
      ingresses: [],
    });
    await provider.connect(connection);
    await provider.refresh();
    lister.clusters.set('local', new Error('connect ECONNREFUSED'));
    await provider.refresh();

    expect(refs(mutations[1])).toEqual(refs(mutations[0]));
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /cluster local: .*ECONNREFUSED; keeping its entities from the last refresh/,
      ),
    );
  });

  it('applies nothing while a cluster has never answered, so no entity is removed by an outage', async () => {
    const { lister, mutations, connection, logger, provider } = setup();
    lister.clusters.set('eks', new Error('timed out'));
    await provider.connect(connection);
    await provider.refresh();

    expect(mutations).toHaveLength(0);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/cluster eks: .*timed out; skipping this refresh/),
    );
  });

  it('refuses to refresh before the catalog connected it', async () => {
    const { provider } = setup();
    await expect(provider.refresh()).rejects.toThrow(/not connected/);
  });

  it('schedules its refresh on the task runner when connected', async () => {
    const run = jest.fn();
    const provider = new MlflowEntityProvider({
      clusters: [],
      defaultOwner: 'group:default/unknown',
      lister: new FakeLister(),
      logger: mockServices.logger.mock(),
      taskRunner: { run },
    });
    await provider.connect(setup().connection);
    expect(run).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'MlflowEntityProvider:refresh' }),
    );
  });
});
