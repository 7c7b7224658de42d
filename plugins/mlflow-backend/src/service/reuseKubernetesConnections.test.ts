import { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { reuseKubernetesConnections } from './reuseKubernetesConnections';

function kubeConfig() {
  const config = new KubeConfig();
  config.loadFromOptions({
    // With a CA of its own, as a configured cluster has: the client then makes a pool per request.
    clusters: [
      {
        name: 'local',
        server: 'https://127.0.0.1:6443',
        caData: Buffer.from('a CA bundle').toString('base64'),
      },
    ],
    users: [{ name: 'backstage', token: 'secret-token' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'backstage' }],
    currentContext: 'local',
  });
  return config;
}

async function authenticated(config: KubeConfig) {
  const context = new RequestContext(
    'https://127.0.0.1:6443/apis/apps/v1/deployments',
    'GET' as never,
  );
  await config.applySecurityAuthentication(context);
  return context;
}

describe('reuseKubernetesConnections', () => {
  it('gives every request the same connection pool, with its credentials applied each time', async () => {
    const config = reuseKubernetesConnections(kubeConfig());
    const first = await authenticated(config);
    const second = await authenticated(config);
    expect(first.getDispatcher()).toBeDefined();
    expect(second.getDispatcher()).toBe(first.getDispatcher());
    expect(second.getHeaders().Authorization).toBe('Bearer secret-token');
  });

  it('is needed: the client alone makes a new pool per request', async () => {
    const config = kubeConfig();
    const first = await authenticated(config);
    const second = await authenticated(config);
    expect(second.getDispatcher()).not.toBe(first.getDispatcher());
  });
});
