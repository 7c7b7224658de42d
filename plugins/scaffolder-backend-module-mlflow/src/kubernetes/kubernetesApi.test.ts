import { ConfigReader } from '@backstage/config';
import { InputError, NotAllowedError } from '@backstage/errors';
import { ApiException } from '@kubernetes/client-node';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  explainKubernetesError,
  kubernetesApiFromClusters,
} from './kubernetesApi';

const ref = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  name: 'demo',
  namespace: 'mlflow-demo',
};

function apiError(code: number, message: string) {
  return new ApiException(
    code,
    `HTTP-Code: ${code}`,
    JSON.stringify({ kind: 'Status', message }),
    {},
  );
}

describe('explainKubernetesError', () => {
  it('names the RBAC permission the service account lacks', () => {
    const error = explainKubernetesError(
      apiError(403, 'deployments.apps is forbidden'),
      'apply',
      ref,
      'prod',
    );
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.message).toBe(
      'Kubernetes cluster prod refused to let Backstage apply Deployment mlflow-demo/demo: its service account needs RBAC permission to get, create and patch Deployment objects in namespace mlflow-demo (see the plugin README). Kubernetes said: deployments.apps is forbidden',
    );
  });

  it('reports a field manager conflict instead of taking fields over', () => {
    const error = explainKubernetesError(
      apiError(409, 'Apply failed with 1 conflict: conflict with "kubectl"'),
      'apply',
      ref,
      'prod',
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /managed by someone else.*conflict with "kubectl"/,
    );
  });

  it('passes on what the API server found invalid', () => {
    const error = explainKubernetesError(
      apiError(422, 'spec.template: field is immutable'),
      'apply',
      { ...ref, kind: 'Job' },
      'prod',
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'Kubernetes cluster prod rejected Job mlflow-demo/demo: spec.template: field is immutable',
    );
  });
});

/** Clusters whose one cluster, `hung`, is a local server that accepts requests and never answers. */
function hungCluster(server: Server) {
  const { port } = server.address() as AddressInfo;
  return MlflowClusters.fromConfig(
    new ConfigReader({
      kubernetes: {
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              {
                name: 'hung',
                url: `http://127.0.0.1:${port}`,
                // Plain HTTP is refused otherwise; the server here speaks no TLS.
                skipTLSVerify: true,
              },
            ],
          },
        ],
      },
    }),
  );
}

describe('kubernetesApiFromClusters', () => {
  let server: Server;
  let requests = 0;

  beforeAll(async () => {
    server = createServer(() => {
      requests += 1;
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  });

  it('abandons a call that gets no answer at its timeout, as a transient failure', async () => {
    const api = kubernetesApiFromClusters(hungCluster(server), {
      callTimeoutMs: 300,
    })('hung');
    const before = requests;
    const error = await api.read(ref).catch(e => e);
    expect(requests).toBe(before + 1);
    expect(error.message).toBe(
      'Kubernetes cluster hung did not answer the read of Deployment mlflow-demo/demo within 0.3s; the call was abandoned',
    );
    expect(error.name).toBe('TransientError');
  });

  it('abandons a call in flight when the task is cancelled', async () => {
    const controller = new AbortController();
    const api = kubernetesApiFromClusters(hungCluster(server), {
      callTimeoutMs: 60_000,
    })('hung', { signal: controller.signal });
    const before = requests;
    const call = api.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: ref.name, namespace: ref.namespace },
      },
      { dryRun: false },
    );
    // Cancel only once the request is on the wire, so it is the call in flight that stops.
    const deadline = Date.now() + 10_000;
    while (requests === before) {
      if (Date.now() > deadline) {
        throw new Error('the request never reached the server');
      }
      await new Promise(resolve => setTimeout(resolve, 10));
    }
    controller.abort();
    await expect(call).rejects.toThrow(
      'Cancelled during the apply of Deployment mlflow-demo/demo on cluster hung',
    );
  });

  it('sends nothing once the task is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const api = kubernetesApiFromClusters(hungCluster(server))('hung', {
      signal: controller.signal,
    });
    const before = requests;
    await expect(api.read(ref)).rejects.toThrow(
      'Cancelled before the read of Deployment mlflow-demo/demo on cluster hung',
    );
    expect(requests).toBe(before);
  });

  it('turns an unknown cluster into an InputError naming the configured ones', () => {
    const provider = kubernetesApiFromClusters(
      MlflowClusters.fromConfig(
        new ConfigReader({
          kubernetes: {
            clusterLocatorMethods: [
              {
                type: 'config',
                clusters: [{ name: 'local', url: 'https://127.0.0.1:6443' }],
              },
            ],
          },
        }),
      ),
    );
    expect(() => provider('prod')).toThrow(InputError);
    expect(() => provider('prod')).toThrow(/Accepted: local/);
  });
});
