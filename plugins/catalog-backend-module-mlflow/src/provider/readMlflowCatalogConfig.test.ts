import { ConfigReader } from '@backstage/config';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { readMlflowCatalogConfig } from './readMlflowCatalogConfig';

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
  { name: 'eks', url: 'https://eks.example.com', skipTLSVerify: false },
]);

type ConfigData = ConstructorParameters<typeof ConfigReader>[0];

function read(catalog: ConfigData) {
  return readMlflowCatalogConfig(
    new ConfigReader(catalog ? { mlflow: { catalog } } : {}),
    clusters,
  );
}

describe('readMlflowCatalogConfig', () => {
  it('defaults to a 30 s refresh, every configured cluster and the unknown group as owner', () => {
    expect(read(undefined)).toEqual({
      refreshIntervalSeconds: 30,
      clusters: ['local', 'eks'],
      defaultOwner: 'group:default/unknown',
    });
  });

  it('reads the configured values and normalises the owner ref', () => {
    expect(
      read({
        refreshIntervalSeconds: 10,
        clusters: ['eks'],
        defaultOwner: 'platform-team',
      }),
    ).toEqual({
      refreshIntervalSeconds: 10,
      clusters: ['eks'],
      defaultOwner: 'group:default/platform-team',
    });
  });

  it('rejects an unknown cluster, naming the key and the configured clusters', () => {
    expect(() => read({ clusters: ['nope'] })).toThrow(
      /Invalid mlflow\.catalog\.clusters: received "nope".*Accepted: local, eks/,
    );
  });

  it('rejects an interval that is not a whole number of seconds in range', () => {
    expect(() => read({ refreshIntervalSeconds: 0 })).toThrow(
      /mlflow\.catalog\.refreshIntervalSeconds: received 0.*1 to 3600/,
    );
    expect(() => read({ refreshIntervalSeconds: 2.5 })).toThrow(
      /received 2\.5/,
    );
  });

  it('rejects a default owner that is not an entity ref', () => {
    expect(() => read({ defaultOwner: 'user:a:b:c' })).toThrow(
      /Invalid mlflow\.catalog\.defaultOwner: received "user:a:b:c"/,
    );
  });
});
