import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { readMlflowCatalogConfig } from './readMlflowCatalogConfig';

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
  { name: 'eks', url: 'https://eks.example.com', skipTLSVerify: false },
]);

type ConfigData = ConstructorParameters<typeof ConfigReader>[0];

function read(data: ConfigData) {
  const logger = mockServices.logger.mock();
  const config = readMlflowCatalogConfig(
    new ConfigReader(data),
    clusters,
    logger,
  );
  return { config, logger };
}

const provider = (mlflow: ConfigData) => ({
  catalog: { providers: { mlflow } },
});

describe('readMlflowCatalogConfig', () => {
  it('defaults to a 30 s schedule, every configured cluster and no adopted namespace', () => {
    expect(read({}).config).toEqual({
      schedule: { frequency: { seconds: 30 }, timeout: { minutes: 1 } },
      clusters: ['local', 'eks'],
      adoptNamespaces: [],
    });
  });

  it('reads the standard schedule, the clusters and the adopt rules with their owners', () => {
    const { config, logger } = read(
      provider({
        schedule: { frequency: { minutes: 2 }, timeout: 'PT3M' },
        clusters: ['eks'],
        defaultOwner: 'platform-team',
        adoptNamespaces: [
          { namespace: 'ml' },
          {
            namespace: 'team-b',
            cluster: 'eks',
            owner: 'user:default/bob',
            entityNamespace: 'team-b',
          },
        ],
      }),
    );
    expect(config.schedule).toMatchObject({
      frequency: { minutes: 2 },
    });
    expect(config.clusters).toEqual(['eks']);
    expect(config.adoptNamespaces).toEqual([
      {
        namespace: 'ml',
        cluster: undefined,
        owner: 'group:default/platform-team',
        entityNamespace: 'mlflow-adopted',
      },
      {
        namespace: 'team-b',
        cluster: 'eks',
        owner: 'user:default/bob',
        entityNamespace: 'team-b',
      },
    ]);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('still reads the deprecated mlflow.catalog block, with a warning', () => {
    const { config, logger } = read({
      mlflow: { catalog: { refreshIntervalSeconds: 5, clusters: ['local'] } },
    });
    expect(config).toEqual({
      schedule: { frequency: { seconds: 5 }, timeout: { seconds: 60 } },
      clusters: ['local'],
      adoptNamespaces: [],
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /mlflow\.catalog is deprecated: move it to catalog\.providers\.mlflow/,
      ),
    );
  });

  it('ignores the deprecated block when the new one is set, with a warning', () => {
    const { config, logger } = read({
      ...provider({ clusters: ['eks'] }),
      mlflow: { catalog: { clusters: ['local'] } },
    });
    expect(config.clusters).toEqual(['eks']);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/deprecated and ignored/),
    );
  });

  it('rejects an unknown cluster, naming the key and the configured clusters', () => {
    expect(() => read(provider({ clusters: ['gke'] }))).toThrow(
      /Invalid catalog\.providers\.mlflow\.clusters: received "gke".*Accepted: local, eks/,
    );
  });

  it('rejects a deprecated interval that is not a whole number of seconds in range', () => {
    expect(() =>
      read({ mlflow: { catalog: { refreshIntervalSeconds: 0 } } }),
    ).toThrow(
      'Invalid mlflow.catalog.refreshIntervalSeconds: received 0, but it must be a whole number of seconds from 1 to 3600.',
    );
  });

  it.each([
    [
      { namespace: 'Bad_NS' },
      'Invalid catalog.providers.mlflow.adoptNamespaces[0].namespace: received "Bad_NS"',
    ],
    [
      { namespace: 'ml', cluster: 'gke' },
      'Invalid catalog.providers.mlflow.adoptNamespaces[0].cluster: received "gke", but it must be one of the clusters the provider lists: local, eks',
    ],
    [
      { namespace: 'ml', owner: 'not a ref!' },
      'Invalid catalog.providers.mlflow.adoptNamespaces[0].owner: received "not a ref!"',
    ],
    [
      { namespace: 'ml', entityNamespace: 'default' },
      'Invalid catalog.providers.mlflow.adoptNamespaces[0].entityNamespace: received "default", but it must be a catalog namespace other than default',
    ],
  ])('rejects the adopt rule %j', (rule, message) => {
    expect(() => read(provider({ adoptNamespaces: [rule] }))).toThrow(message);
  });
});
