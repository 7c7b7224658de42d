import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { createKubernetesDeployAction } from './kubernetesDeploy';
import { examples } from './kubernetesDeploy.examples';
import { withInputDefaults } from './withInputDefaults';
import { instanceLabels, testTenancy } from '../__testUtils__/tenancy';
import {
  fakeMlflowAuthApi,
  seedAuthSecrets,
} from '../__testUtils__/authFixtures';

describe('mlflow:kubernetes:deploy examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      const step = yaml.parse(example).steps[0];
      const cluster = new FakeKubernetesApi();
      const names = resolveInstanceNames(step.input);
      const namespace = names.namespace;
      cluster.objects.set(`Namespace//${namespace}`, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace, labels: instanceLabels(step.input.name) },
      });
      cluster.objects.set(`Secret/${namespace}/${names.databaseSecretName}`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: names.databaseSecretName,
          namespace,
          labels: instanceLabels(step.input.name),
        },
      });
      seedAuthSecrets(cluster, {
        name: step.input.name,
        labels: instanceLabels(step.input.name),
      });
      const action = withInputDefaults(
        createKubernetesDeployAction({
          ...testTenancy(),
          fetch: fakeMlflowAuthApi().fetch,
          kubernetes: () => cluster,
          pollIntervalMs: 1,
        }),
      );
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
        workspacePath: mkdtempSync(join(tmpdir(), 'mlflow-example-')),
      });
      await action.handler(ctx);
      expect(outputs.trackingUrl).toMatch(
        new RegExp(`^https?://${step.input.hostname.replace(/\./g, '\\.')}$`),
      );
      expect(cluster.stored('Deployment')).toHaveLength(
        step.input.apply === false ? 0 : 1,
      );
    },
  );
});
