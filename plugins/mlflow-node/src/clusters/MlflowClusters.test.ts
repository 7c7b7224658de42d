import { ConfigReader } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MlflowClusters } from './MlflowClusters';

function clustersFrom(clusters: object[], extraMethods: object[] = []) {
  return MlflowClusters.fromConfig(
    new ConfigReader({
      kubernetes: {
        clusterLocatorMethods: [...extraMethods, { type: 'config', clusters }],
      },
    }),
  );
}

describe('MlflowClusters', () => {
  it('reads the serviceAccount clusters of the config locator and skips others', () => {
    const clusters = clustersFrom(
      [
        { name: 'prod', url: 'https://prod:6443', serviceAccountToken: 't' },
        { name: 'eks', url: 'https://eks', authProvider: 'aws' },
        {
          name: 'dev',
          url: 'https://dev:6443',
          authProvider: 'serviceAccount',
        },
      ],
      [{ type: 'catalog' }],
    );
    expect(clusters.names()).toEqual(['prod', 'dev']);
    expect(clusters.get('prod')).toEqual({
      name: 'prod',
      url: 'https://prod:6443',
      serviceAccountToken: 't',
      caData: undefined,
      caFile: undefined,
      skipTLSVerify: false,
    });
  });

  it('names the configured clusters when an unknown one is asked for', () => {
    const clusters = clustersFrom([{ name: 'prod', url: 'https://prod' }]);
    expect(() => clusters.get('staging', 'cluster')).toThrow(InputError);
    expect(() => clusters.get('staging', 'cluster')).toThrow(
      'Invalid cluster: received "staging", but no such cluster is configured. Accepted: prod.',
    );
    expect(() => clustersFrom([]).get('x')).toThrow(/Accepted: none/);
  });

  it('builds a KubeConfig with the token and the CA read from caFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusters-'));
    writeFileSync(join(dir, 'ca.crt'), 'PEM');
    const kc = clustersFrom([
      {
        name: 'local',
        url: 'https://127.0.0.1:16443',
        serviceAccountToken: 'secret-token',
        caFile: join(dir, 'ca.crt'),
      },
    ]).kubeConfig('local');
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://127.0.0.1:16443',
      caData: Buffer.from('PEM').toString('base64'),
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()?.token).toBe('secret-token');
  });
});
