import { InputError } from '@backstage/errors';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { DRY_RUN_STAND_IN_NAMESPACE, dryRunManifests } from './dryRunManifests';

const namespace: KubernetesObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'mlflow-demo' },
};
const service: KubernetesObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'demo', namespace: 'mlflow-demo' },
};
const ingress: KubernetesObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'demo', namespace: 'mlflow-demo' },
};

describe('dryRunManifests', () => {
  it('applies with dryRun=All in place when the namespace exists', async () => {
    const cluster = new FakeKubernetesApi();
    const lines: string[] = [];
    const verdicts = await dryRunManifests({
      api: cluster,
      cluster: 'local',
      objects: [service, ingress],
      namespaceExists: true,
      log: l => lines.push(l),
    });
    expect(cluster.applied.map(a => [a.key, a.dryRun])).toEqual([
      ['Service/mlflow-demo/demo', true],
      ['Ingress/mlflow-demo/demo', true],
    ]);
    expect(verdicts.every(v => v.accepted)).toBe(true);
    expect(lines).toEqual([
      'Dry-run: the cluster accepts Service mlflow-demo/demo',
      'Dry-run: the cluster accepts Ingress mlflow-demo/demo',
    ]);
  });

  it('checks the objects of a new namespace as new objects in the stand-in namespace, leaving the originals untouched', async () => {
    const cluster = new FakeKubernetesApi();
    cluster.objects.set(`Service/${DRY_RUN_STAND_IN_NAMESPACE}/demo`, {
      ...service,
      metadata: { name: 'demo', namespace: DRY_RUN_STAND_IN_NAMESPACE },
    });
    const lines: string[] = [];
    await dryRunManifests({
      api: cluster,
      cluster: 'local',
      objects: [namespace, service, ingress],
      namespaceExists: false,
      log: l => lines.push(l),
    });
    expect(cluster.applied.map(a => a.key)).toEqual([
      'Namespace//mlflow-demo',
      'Service/default/demo',
      'Ingress/default/demo',
    ]);
    expect(service.metadata!.namespace).toBe('mlflow-demo');
    expect(lines).toEqual([
      'Dry-run: the cluster accepts Namespace mlflow-demo',
      'Dry-run: the cluster accepts Service mlflow-demo/demo (checked as a new object in namespace default, as mlflow-demo does not exist yet; an object of that name exists there, which is only looked for after the checks)',
      'Dry-run: the cluster accepts Ingress mlflow-demo/demo (checked as a new object in namespace default, as mlflow-demo does not exist yet)',
    ]);
  });

  it('checks every object, then refuses naming each object the cluster refused and why', async () => {
    const cluster = new FakeKubernetesApi();
    cluster.refuse = o =>
      o.kind === 'Ingress' || o.kind === 'Service'
        ? `${o.kind} is invalid`
        : undefined;
    const lines: string[] = [];
    const error = await dryRunManifests({
      api: cluster,
      cluster: 'local',
      objects: [namespace, service, ingress],
      namespaceExists: false,
      log: l => lines.push(l),
    }).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'Kubernetes cluster local refused 2 of 3 objects in dry-run: Service mlflow-demo/demo (Kubernetes cluster fake rejected Service default/demo: Service is invalid); Ingress mlflow-demo/demo (Kubernetes cluster fake rejected Ingress default/demo: Ingress is invalid)',
    );
    expect(lines[0]).toBe('Dry-run: the cluster accepts Namespace mlflow-demo');
    expect(lines.slice(1).every(l => l.includes('the cluster refuses'))).toBe(
      true,
    );
  });

  it('stops at a failure that is not a verdict on the object', async () => {
    const cluster = new FakeKubernetesApi();
    cluster.apply = async () => {
      throw new Error('Failed to dry-run apply Service (HTTP 500)');
    };
    await expect(
      dryRunManifests({
        api: cluster,
        cluster: 'local',
        objects: [service],
        namespaceExists: true,
        log: () => undefined,
      }),
    ).rejects.toThrow('HTTP 500');
  });
});
