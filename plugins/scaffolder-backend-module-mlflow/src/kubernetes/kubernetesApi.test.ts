import { ConfigReader } from '@backstage/config';
import { InputError, NotAllowedError } from '@backstage/errors';
import { ApiException } from '@kubernetes/client-node';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
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

describe('kubernetesApiFromClusters', () => {
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
