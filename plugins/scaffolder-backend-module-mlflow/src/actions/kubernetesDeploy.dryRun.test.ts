import { InputError } from '@backstage/errors';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  clusterWithSecret,
  deployAction,
  input,
} from '../__testUtils__/kubernetesDeployFixtures';

describe('mlflow:kubernetes:deploy', () => {
  let cluster: FakeKubernetesApi;
  let action: ReturnType<typeof deployAction>;

  beforeEach(() => {
    cluster = clusterWithSecret();
    action = deployAction(cluster);
  });

  it('sends every manifest with dryRun=All and stores nothing during a dry-run', async () => {
    const { ctx, outputs, logs } = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    await action.handler(ctx);
    expect(cluster.applied).toHaveLength(9);
    expect(cluster.applied.every(a => a.dryRun)).toBe(true);
    expect(cluster.stored('Deployment')).toHaveLength(0);
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Plan for MLflow instance demo/,
    );
    expect(outputs.trackingUrl).toBe('http://demo.mlflow.localhost');
  });

  it('has the cluster check every object of a new namespace in the stand-in namespace during dry-run', async () => {
    const fresh = new FakeKubernetesApi();
    const dry = deployAction(fresh);
    const { ctx, logs } = createCheckpointingContext(dry, {
      input,
      isDryRun: true,
    });
    await dry.handler(ctx);
    expect(fresh.applied.every(a => a.dryRun)).toBe(true);
    expect(fresh.applied.map(a => a.key)).toEqual([
      'Namespace//mlflow-demo',
      'ServiceAccount/default/mlflow',
      'ConfigMap/default/demo-config',
      'Service/default/demo',
      'NetworkPolicy/default/demo',
      'PodDisruptionBudget/default/demo',
      expect.stringMatching(/^Job\/default\/demo-db-upgrade-[0-9a-f]{10}$/),
      'Deployment/default/demo',
      'Ingress/default/demo',
    ]);
    expect(fresh.objects.size).toBe(0);
    const accepted = logs
      .map(l => l.message)
      .filter(m => m.startsWith('Dry-run: the cluster accepts'));
    expect(accepted).toHaveLength(9);
    expect(accepted).toContain(
      'Dry-run: the cluster accepts Deployment mlflow-demo/demo (checked as a new object in namespace default, as mlflow-demo does not exist yet)',
    );
  });

  it('names every object the cluster refuses in dry-run, after checking them all', async () => {
    cluster.refuse = object =>
      object.kind === 'Ingress'
        ? 'spec.rules[0].host: Invalid value: must be a DNS name, not an IP address'
        : undefined;
    const { ctx, logs } = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    const error = await action.handler(ctx).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /refused 1 of 9 objects in dry-run: Ingress mlflow-demo\/demo \(.*must be a DNS name, not an IP address\)/,
    );
    expect(cluster.applied).toHaveLength(9);
    expect(
      logs.filter(l => l.message.startsWith('Dry-run: the cluster accepts')),
    ).toHaveLength(8);
  });
});
