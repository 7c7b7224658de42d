import { mockCredentials } from '@backstage/backend-test-utils';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { testTenancy } from '../__testUtils__/tenancy';
import { createCatalogRemoveInstanceAction } from './catalogRemoveInstance';
import { examples } from './catalogRemoveInstance.examples';

describe('mlflow:catalog:removeInstance examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      const step = yaml.parse(example).steps[0];
      const namespace = step.input.namespace ?? `mlflow-${step.input.name}`;
      let present = true;
      const removed: string[] = [];
      const component = {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: step.input.name,
          uid: 'uid-1',
          annotations: {
            'mlflow.org/kubernetes-cluster': step.input.cluster,
            'backstage.io/kubernetes-namespace': namespace,
          },
        },
      };
      const action = createCatalogRemoveInstanceAction({
        catalog: {
          getEntityByRef: async () => (present ? component : undefined),
          getEntities: async () => ({ items: [] }),
          removeEntityByUid: async (uid: string) => {
            removed.push(uid);
            present = false;
          },
        },
        auth: {
          getOwnServiceCredentials: async () => mockCredentials.service(),
        },
        clusters: new MlflowClusters([
          {
            name: 'prod-eu',
            url: 'https://prod-eu.example.com',
            skipTLSVerify: false,
          },
        ]),
        kubernetes: () => new FakeKubernetesApi(),
        authorization: testTenancy().authorization,
        pollIntervalMs: 1,
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(removed).toEqual(['uid-1']);
      expect(outputs.removedEntities).toEqual([
        `component:default/${step.input.name}`,
      ]);
    },
  );
});
