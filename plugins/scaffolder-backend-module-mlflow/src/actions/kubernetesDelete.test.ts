import { mockCredentials } from '@backstage/backend-test-utils';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { KubernetesObject } from '@kubernetes/client-node';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  fakeAuthorization,
  instanceLabels,
  MOCK_USER,
} from '../__testUtils__/tenancy';
import { createKubernetesDeleteAction } from './kubernetesDelete';

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
]);

function object(
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string | undefined,
  labels: Record<string, string>,
): KubernetesObject {
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      namespace,
      labels,
      annotations: { 'mlflow.org/owner': MOCK_USER },
    },
  };
}

async function seed(
  api: FakeKubernetesApi,
  namespaceLabels: Record<string, string>,
) {
  const mine = instanceLabels('demo');
  for (const o of [
    object('v1', 'Namespace', 'mlflow-demo', undefined, namespaceLabels),
    object('apps/v1', 'Deployment', 'demo', 'mlflow-demo', mine),
    object('v1', 'Service', 'demo', 'mlflow-demo', mine),
    object('v1', 'Secret', 'demo-db', 'mlflow-demo', mine),
    // In the same namespace, without the instance's labels: never deleted.
    object('v1', 'ConfigMap', 'someone-elses', 'mlflow-demo', {}),
    object('v1', 'Secret', 'other-db', 'mlflow-demo', instanceLabels('other')),
  ]) {
    await api.apply(o, { dryRun: false });
  }
}

function setup(
  options: { authorization?: ReturnType<typeof fakeAuthorization> } = {},
) {
  const api = new FakeKubernetesApi();
  const action = createKubernetesDeleteAction({
    clusters,
    kubernetes: () => api,
    authorization:
      options.authorization ??
      fakeAuthorization({ everyInstanceOwnedBy: MOCK_USER }),
    pollIntervalMs: 1,
  });
  return { api, action };
}

describe('mlflow:kubernetes:delete', () => {
  it("deletes the instance's objects, Deployment first, then its own namespace, and nothing on a rerun", async () => {
    const { api, action } = setup();
    await seed(api, instanceLabels('demo'));
    const run = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'local' },
    });
    await action.handler(run.ctx);
    expect(api.deleted.map(d => d.key)).toEqual([
      'Deployment/mlflow-demo/demo',
      'Service/mlflow-demo/demo',
      'Secret/mlflow-demo/demo-db',
      'Namespace//mlflow-demo',
    ]);
    expect(api.deleted[0].propagationPolicy).toBe('Foreground');
    expect(run.outputs).toEqual({
      namespace: 'mlflow-demo',
      deletedObjects: 3,
      namespaceDeleted: true,
    });
    expect(
      run.requested.every(k =>
        k.startsWith('mlflow:k8s:local:mlflow-demo:delete:'),
      ),
    ).toBe(true);

    const again = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'local' },
    });
    await action.handler(again.ctx);
    expect(api.deleted).toHaveLength(4);
    expect(again.outputs).toMatchObject({
      deletedObjects: 0,
      namespaceDeleted: false,
    });
  });

  it('leaves a namespace not created for the instance and the objects without its labels', async () => {
    const { api, action } = setup();
    await seed(api, { team: 'shared' });
    const run = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'local' },
    });
    await action.handler(run.ctx);
    expect(api.deleted.map(d => d.key)).toEqual([
      'Deployment/mlflow-demo/demo',
      'Service/mlflow-demo/demo',
      'Secret/mlflow-demo/demo-db',
    ]);
    expect(api.stored('Namespace')).toHaveLength(1);
    expect(api.stored('ConfigMap').map(o => o.metadata?.name)).toEqual([
      'someone-elses',
    ]);
    expect(api.stored('Secret').map(o => o.metadata?.name)).toEqual([
      'other-db',
    ]);
  });

  it('resumes a recovered run without deleting twice', async () => {
    const { api, action } = setup();
    await seed(api, instanceLabels('demo'));
    const first = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'local' },
    });
    await action.handler(first.ctx);
    const recovered = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'local' },
      store: first.store,
    });
    await action.handler(recovered.ctx);
    expect(recovered.executed).toEqual([]);
    expect(api.deleted).toHaveLength(4);
  });

  it('plans without deleting in dry-run', async () => {
    const { api, action } = setup();
    await seed(api, instanceLabels('demo'));
    const run = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'local' },
      isDryRun: true,
    });
    await action.handler(run.ctx);
    expect(api.deleted).toEqual([]);
    expect(run.logs.map(l => l.message).join('\n')).toContain(
      'delete Deployment mlflow-demo/demo, Service mlflow-demo/demo, Secret mlflow-demo/demo-db, then namespace mlflow-demo',
    );
  });

  it('refuses a non-owner before deleting anything, naming the owner', async () => {
    const authorization = fakeAuthorization({
      entities: [
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'demo', namespace: 'default' },
          spec: { type: 'service', owner: 'group:default/team-a' },
        },
      ],
    });
    const { api, action } = setup({ authorization });
    await seed(api, instanceLabels('demo'));
    const run = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'local' },
    });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /user:default\/mallory may not decommission .*owned by group:default\/team-a: the permission policy denies mlflow.instance.delete/,
    );
    expect(api.deleted).toEqual([]);
  });

  it('refuses an unknown cluster, naming the field', async () => {
    const { action } = setup();
    const run = createCheckpointingContext(action, {
      input: { name: 'demo', cluster: 'nowhere' },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(/cluster/);
  });
});
