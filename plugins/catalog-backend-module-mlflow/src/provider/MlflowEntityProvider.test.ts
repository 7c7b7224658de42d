import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { verifyMlflowDeployment } from '@stateful-mlflow/plugin-mlflow-node';
import {
  ClusterMlflowObjects,
  MlflowDeploymentLister,
} from './MlflowDeploymentLister';
import { MlflowEntityProvider } from './MlflowEntityProvider';
import { MlflowAdoptRule } from './readMlflowCatalogConfig';
import { FakeCatalog } from './testCatalog';
import {
  helmDeployment,
  signedDeployment,
  TEST_SIGNING_KEY,
} from './testDeployments';

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

const ADOPT_ML: MlflowAdoptRule = {
  namespace: 'ml',
  owner: 'group:default/platform-team',
  entityNamespace: 'mlflow-adopted',
};

/** One backend replica: a provider per cluster, connected to the shared catalog. */
async function replica(
  catalog: FakeCatalog,
  lister: MlflowDeploymentLister,
  clusters = ['local', 'eks'],
  adoptNamespaces: MlflowAdoptRule[] = [ADOPT_ML],
) {
  const logger = mockServices.logger.mock();
  const providers = clusters.map(
    cluster =>
      new MlflowEntityProvider({
        cluster,
        lister,
        verify: (d, c) => verifyMlflowDeployment(d, c, [TEST_SIGNING_KEY]),
        adoptNamespaces,
        logger,
      }),
  );
  for (const provider of providers) {
    await provider.connect(catalog.connection(provider.getProviderName()));
  }
  return {
    logger,
    refresh: () => Promise.all(providers.map(p => p.refresh())),
  };
}

const objects = (
  ...deployments: ClusterMlflowObjects['deployments']
): ClusterMlflowObjects => ({ deployments, ingresses: [] });

describe('MlflowEntityProvider', () => {
  it('emits signed instances as trusted entities in default and adopted ones apart, each with its location key', async () => {
    const catalog = new FakeCatalog();
    const lister = new FakeLister();
    lister.clusters.set('local', objects(signedDeployment('demo')));
    lister.clusters.set(
      'eks',
      objects(
        signedDeployment('prod', { cluster: 'eks' }),
        helmDeployment('team-a'),
      ),
    );
    await (await replica(catalog, lister)).refresh();

    expect(catalog.refs()).toEqual([
      'component:default/demo',
      'component:default/prod',
      'component:mlflow-adopted/team-a',
      'resource:default/demo-artifacts',
      'resource:default/demo-db',
      'resource:default/prod-artifacts',
      'resource:default/prod-db',
      'resource:mlflow-adopted/team-a-artifacts',
      'resource:mlflow-adopted/team-a-db',
    ]);
    const demo = catalog.get('component:default/demo')!;
    expect(demo.metadata.annotations?.['mlflow.org/trusted']).toBe('true');
    expect(demo.spec?.owner).toBe('group:default/ml-team');
    const adopted = catalog.get('component:mlflow-adopted/team-a')!;
    expect(
      adopted.metadata.annotations?.['mlflow.org/trusted'],
    ).toBeUndefined();
    expect(adopted.spec?.owner).toBe('group:default/platform-team');
    expect(
      catalog.byProvider
        .get('MlflowEntityProvider:local')!
        .map(d => d.locationKey),
    ).toEqual([
      'mlflow-cluster:local/mlflow-demo/demo',
      'mlflow-cluster:local/mlflow-demo/demo',
      'mlflow-cluster:local/mlflow-demo/demo',
    ]);
  });

  it('ignores unsigned Deployments outside the adopted namespaces', async () => {
    const catalog = new FakeCatalog();
    const lister = new FakeLister();
    lister.clusters.set(
      'local',
      objects(helmDeployment('team-b', { namespace: 'team-b' })),
    );
    await (await replica(catalog, lister, ['local'])).refresh();
    expect(catalog.refs()).toEqual([]);
    expect(catalog.applied).toBe(1);
  });

  it('never trusts a forged copy of a signed Deployment in another namespace, nor lets it change the real owner', async () => {
    const catalog = new FakeCatalog();
    const lister = new FakeLister();
    const real = signedDeployment('demo');
    const forgedOwner = JSON.parse(JSON.stringify(real));
    forgedOwner.metadata.namespace = 'team-b';
    forgedOwner.metadata.annotations['mlflow.org/owner'] =
      'user:default/mallory';
    const forgedInAdopted = JSON.parse(JSON.stringify(real));
    forgedInAdopted.metadata.namespace = 'ml';
    // The forgeries are older: age must not buy them the name.
    forgedOwner.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
    forgedInAdopted.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
    lister.clusters.set('local', objects(forgedOwner, forgedInAdopted, real));
    const { logger, refresh } = await replica(catalog, lister, ['local']);
    await refresh();

    expect(catalog.refs()).toEqual([
      'component:default/demo',
      'component:mlflow-adopted/demo',
      'resource:default/demo-artifacts',
      'resource:default/demo-db',
      'resource:mlflow-adopted/demo-artifacts',
      'resource:mlflow-adopted/demo-db',
    ]);
    const demo = catalog.get('component:default/demo')!;
    expect(demo.spec?.owner).toBe('group:default/ml-team');
    expect(
      demo.metadata.annotations?.['backstage.io/kubernetes-namespace'],
    ).toBe('mlflow-demo');
    const copy = catalog.get('component:mlflow-adopted/demo')!;
    expect(copy.spec?.owner).toBe('group:default/platform-team');
    expect(copy.metadata.annotations?.['mlflow.org/trusted']).toBeUndefined();
    expect(
      copy.metadata.annotations?.['mlflow.org/rds-instance-id'],
    ).toBeUndefined();
    expect(
      copy.metadata.annotations?.['mlflow.org/tracking-url'],
    ).toBeUndefined();
    expect(
      catalog.entities().filter(e => e.spec?.owner === 'user:default/mallory'),
    ).toEqual([]);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /Ignoring MLflow Deployment team-b\/demo in cluster local: its identity signature does not verify/,
      ),
    );
  });

  it('drops the entities of a deleted Deployment on the next refresh', async () => {
    const catalog = new FakeCatalog();
    const lister = new FakeLister();
    lister.clusters.set(
      'local',
      objects(signedDeployment('demo'), signedDeployment('other')),
    );
    const { refresh } = await replica(catalog, lister, ['local']);
    await refresh();
    lister.clusters.set('local', objects(signedDeployment('other')));
    await refresh();
    expect(catalog.refs()).toEqual([
      'component:default/other',
      'resource:default/other-artifacts',
      'resource:default/other-db',
    ]);
  });

  it('keeps refreshing the other clusters while one has never answered', async () => {
    const catalog = new FakeCatalog();
    const lister = new FakeLister();
    lister.clusters.set('eks', new Error('connect ECONNREFUSED'));
    lister.clusters.set('local', objects(signedDeployment('demo')));
    const { logger, refresh } = await replica(catalog, lister);
    await refresh();

    expect(catalog.refs()).toContain('component:default/demo');
    expect(catalog.byProvider.has('MlflowEntityProvider:eks')).toBe(false);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /cluster eks: .*ECONNREFUSED; its entities stay as they are until it answers/,
      ),
    );
  });

  it('on two replicas, a cluster failing on one neither resurrects a deleted instance nor drops a live one', async () => {
    const catalog = new FakeCatalog();
    const listerA = new FakeLister();
    const listerB = new FakeLister();
    const a = await replica(catalog, listerA, ['local']);
    const b = await replica(catalog, listerB, ['local']);

    listerA.clusters.set(
      'local',
      objects(signedDeployment('old'), signedDeployment('kept')),
    );
    await a.refresh();
    // Meanwhile `old` is deleted and `new` created; replica B sees it.
    listerB.clusters.set(
      'local',
      objects(signedDeployment('kept'), signedDeployment('new')),
    );
    await b.refresh();
    const afterB = catalog.refs();
    // Replica A's next run cannot reach the cluster: nothing it saw before comes back.
    listerA.clusters.set('local', new Error('timed out'));
    await a.refresh();

    expect(catalog.refs()).toEqual(afterB);
    expect(catalog.refs()).toEqual([
      'component:default/kept',
      'component:default/new',
      'resource:default/kept-artifacts',
      'resource:default/kept-db',
      'resource:default/new-artifacts',
      'resource:default/new-db',
    ]);
  });

  it('refuses to refresh before the catalog connected it', async () => {
    const provider = new MlflowEntityProvider({
      cluster: 'local',
      lister: new FakeLister(),
      verify: () => undefined,
      adoptNamespaces: [],
      logger: mockServices.logger.mock(),
    });
    await expect(provider.refresh()).rejects.toThrow(/not connected/);
  });

  it('builds one provider per cluster from config, each scheduled with the configured schedule', async () => {
    const createScheduledTaskRunner = jest.fn(() => ({ run: jest.fn() }));
    const scheduler = {
      ...mockServices.scheduler.mock(),
      createScheduledTaskRunner,
    };
    const providers = MlflowEntityProvider.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                { name: 'local', url: 'https://127.0.0.1:1' },
                { name: 'eks', url: 'https://eks.example.com' },
              ],
            },
          ],
        },
        mlflow: { identity: { signingKey: TEST_SIGNING_KEY } },
        catalog: {
          providers: {
            mlflow: {
              schedule: { frequency: { seconds: 7 }, timeout: { seconds: 20 } },
            },
          },
        },
      }),
      { logger: mockServices.logger.mock(), scheduler },
    );
    expect(providers.map(p => p.getProviderName())).toEqual([
      'MlflowEntityProvider:local',
      'MlflowEntityProvider:eks',
    ]);
    expect(createScheduledTaskRunner).toHaveBeenCalledWith({
      frequency: { seconds: 7 },
      timeout: { seconds: 20 },
    });
    const runner = createScheduledTaskRunner.mock.results[0].value;
    await providers[0].connect(new FakeCatalog().connection('x'));
    expect(runner.run).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'MlflowEntityProvider:local:refresh' }),
    );
  });
});
