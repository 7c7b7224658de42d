import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { createInstancePlanAction } from '../actionFactories';
import { examples } from './instancePlan.examples';
import { testTenancy } from '../__testUtils__/tenancy';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';

describe('mlflow:instance:plan examples', () => {
  const action = createInstancePlanAction({
    ...testTenancy(),
    kubernetes: () => new FakeKubernetesApi(),
    clusters: new MlflowClusters([
      { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
    ]),
  });

  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      const step = yaml.parse(example).steps[0];
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs.rdsInstanceId).toBe(
        resolveInstanceNames(step.input).rdsInstanceId,
      );
      expect(outputs.entityRef).toBe(`component:default/${step.input.name}`);
    },
  );
});
