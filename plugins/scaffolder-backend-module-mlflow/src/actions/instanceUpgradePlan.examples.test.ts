import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import yaml from 'yaml';
import { fakeAws } from '../__testUtils__/aws';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  instanceLabels,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';
import { createInstanceUpgradePlanAction } from './instanceUpgradePlan';
import { examples } from './instanceUpgradePlan.examples';

describe('mlflow:instance:planUpgrade examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      const step = yaml.parse(example).steps[0];
      const api = new FakeKubernetesApi();
      const metadata = {
        labels: instanceLabels(step.input.name),
        annotations: { 'mlflow.org/owner': MOCK_USER },
      };
      await api.apply(
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: `mlflow-${step.input.name}`, ...metadata },
        },
        { dryRun: false },
      );
      await api.apply(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {
            name: step.input.name,
            namespace: `mlflow-${step.input.name}`,
            ...metadata,
          },
          spec: {
            replicas: 2,
            template: {
              spec: {
                containers: [
                  { name: 'mlflow', image: 'ghcr.io/acme/mlflow:v3.16.1' },
                ],
              },
            },
          },
        } as never,
        { dryRun: false },
      );
      const action = createInstanceUpgradePlanAction({
        clusters: new MlflowClusters([
          {
            name: 'local',
            url: 'https://127.0.0.1:16443',
            skipTLSVerify: true,
          },
        ]),
        kubernetes: () => api,
        ...testTenancy(),
        aws: fakeAws,
      });
      const run = createCheckpointingContext(action, { input: step.input });
      await action.handler(run.ctx);
      expect(run.outputs).toMatchObject({
        image: step.input.image,
        imageChanged: true,
        replicas: step.input.replicas,
      });
    },
  );
});
