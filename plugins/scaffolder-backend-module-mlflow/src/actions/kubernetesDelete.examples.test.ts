import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { instanceLabels, testTenancy } from '../__testUtils__/tenancy';
import { createKubernetesDeleteAction } from './kubernetesDelete';
import { examples } from './kubernetesDelete.examples';

describe('mlflow:kubernetes:delete examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      const step = yaml.parse(example).steps[0];
      const api = new FakeKubernetesApi();
      const namespace = step.input.namespace ?? `mlflow-${step.input.name}`;
      await api.apply(
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: namespace,
            labels: instanceLabels(step.input.name),
          },
        },
        { dryRun: false },
      );
      const action = createKubernetesDeleteAction({
        clusters: new MlflowClusters([
          {
            name: 'prod-eu',
            url: 'https://prod-eu.example.com',
            skipTLSVerify: false,
          },
        ]),
        kubernetes: () => api,
        authorization: testTenancy().authorization,
        pollIntervalMs: 1,
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs).toMatchObject({ namespace, namespaceDeleted: true });
      expect(api.stored('Namespace')).toEqual([]);
    },
  );
});
