import { V1Deployment } from '@kubernetes/client-node';
import { fakeMlflowAuthApi } from '../__testUtils__/authFixtures';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  clusterWithSecret,
  deployAction,
  input,
  OURS,
} from '../__testUtils__/kubernetesDeployFixtures';
import {
  fakeAuthorization,
  instanceLabels,
  testGuardRails,
  testIdentityKeys,
  testTenancy,
} from '../__testUtils__/tenancy';
import { createKubernetesDeployAction } from '../actionFactories';
import { withInputDefaults } from './withInputDefaults';

describe('mlflow:kubernetes:deploy', () => {
  let cluster: FakeKubernetesApi;
  let action: ReturnType<typeof deployAction>;

  beforeEach(() => {
    cluster = clusterWithSecret();
    action = deployAction(cluster);
  });

  it("refuses objects that exist without this instance's identity, naming them, before any change", async () => {
    cluster.objects.set('Service/mlflow-demo/demo', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'demo',
        namespace: 'mlflow-demo',
        labels: { app: 'other' },
      },
    });
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /Service mlflow-demo\/demo already exists and was not created for MLflow instance "demo" \(labels app.kubernetes.io\/managed-by=unset, app.kubernetes.io\/instance=unset\)/,
    );
    // Managed by these actions, but for another instance: just as foreign.
    cluster.objects.set('Service/mlflow-demo/demo', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'demo',
        namespace: 'mlflow-demo',
        labels: instanceLabels('other'),
      },
    });
    await expect(
      action.handler(createCheckpointingContext(action, { input }).ctx),
    ).rejects.toThrow(/app.kubernetes.io\/instance=other\)/);
    expect(cluster.applied).toHaveLength(0);
  });

  it('refuses an existing namespace without its identity unless the operator lists it as adoptable, then uses it as it is', async () => {
    cluster.objects.set('Namespace//mlflow-demo', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'mlflow-demo' },
    });
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      'Invalid namespace: received "mlflow-demo", but that namespace exists and was not created for this instance, and the operator lists only nothing (the operator has not configured any) as adoptable (mlflow.provisioning.adoptableNamespaces)',
    );
    expect(cluster.applied).toHaveLength(0);

    const adopting = withInputDefaults(
      createKubernetesDeployAction({
        ...testTenancy(),
        fetch: fakeMlflowAuthApi().fetch,
        guardRails: testGuardRails({ adoptableNamespaces: ['mlflow-demo'] }),
        kubernetes: () => cluster,
        pollIntervalMs: 1,
      }),
    );
    await adopting.handler(createCheckpointingContext(adopting, { input }).ctx);
    expect(cluster.applied.map(a => a.key)).not.toContain(
      'Namespace//mlflow-demo',
    );
    expect(cluster.stored('Deployment')).toHaveLength(1);
  });

  it('refuses a namespace outside the allowed patterns, an image and a hostname the operator does not allow, before any call', async () => {
    const fresh = new FakeKubernetesApi();
    const read = jest.spyOn(fresh, 'read');
    const strict = withInputDefaults(
      createKubernetesDeployAction({
        ...testTenancy(),
        fetch: fakeMlflowAuthApi().fetch,
        guardRails: testGuardRails({
          allowedImages: ['ghcr.io/acme/*:*'],
          allowedHostnameDomains: ['mlflow.example.com'],
          allowedNamespaces: ['mlflow-*'],
        }),
        kubernetes: () => fresh,
        pollIntervalMs: 1,
      }),
    );
    const run = (overrides: Record<string, unknown>) =>
      strict.handler(
        createCheckpointingContext(strict, {
          input: {
            ...input,
            hostname: 'demo.mlflow.example.com',
            ...overrides,
          },
        }).ctx,
      );
    await expect(run({ image: 'docker.io/attacker/mlflow:1' })).rejects.toThrow(
      'Invalid image: received "docker.io/attacker/mlflow:1", but the operator allows only images matching ghcr.io/acme/*:* (mlflow.provisioning.allowedImages).',
    );
    await expect(
      run({ image: 'ghcr.io/acme/nested/mlflow:1' }),
    ).rejects.toThrow(/Invalid image/);
    await expect(run({ hostname: 'demo.evil.com' })).rejects.toThrow(
      'Invalid hostname: received "demo.evil.com", but the operator allows only hosts in the domains mlflow.example.com (mlflow.provisioning.allowedHostnameDomains).',
    );
    expect(read).not.toHaveBeenCalled();
    await expect(run({ namespace: 'team-b' })).rejects.toThrow(
      'Invalid namespace: received "team-b", but the operator allows only namespaces matching mlflow-* (mlflow.provisioning.allowedNamespaces).',
    );
    expect(fresh.applied).toHaveLength(0);
  });

  it('records the owner on every object and signs the Deployment for the catalog', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: {
        ...input,
        owner: 'team-a',
        awsAccountId: '123456789012',
      },
    });
    await action.handler(ctx);
    const stored = [...cluster.objects.values()].filter(
      o => o.kind !== 'Secret',
    );
    expect(stored.length).toBeGreaterThanOrEqual(8);
    for (const object of stored) {
      expect(object.metadata?.annotations?.['mlflow.org/owner']).toBe(
        'group:default/team-a',
      );
    }
    const deployment = cluster.stored('Deployment')[0] as V1Deployment;
    expect(
      deployment.metadata?.annotations?.['mlflow.org/aws-account-id'],
    ).toBe('123456789012');
    expect(
      testIdentityKeys.verifyDeployment(deployment, 'local'),
    ).toMatchObject({
      instanceName: 'demo',
      owner: 'group:default/team-a',
      awsAccountId: '123456789012',
    });
    expect(
      testIdentityKeys.verifyDeployment(deployment, 'elsewhere'),
    ).toBeUndefined();
  });

  it('refuses a rerun by someone who may not update the instance, naming it and its owner, also in dry-run', async () => {
    const authorization = fakeAuthorization({
      entities: [
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'demo', namespace: 'default' },
          spec: { type: 'service', owner: 'group:default/guests' },
        },
      ],
    });
    const guarded = withInputDefaults(
      createKubernetesDeployAction({
        ...testTenancy(),
        fetch: fakeMlflowAuthApi().fetch,
        authorization,
        kubernetes: () => cluster,
        pollIntervalMs: 1,
      }),
    );
    for (const isDryRun of [false, true]) {
      await expect(
        guarded.handler(
          createCheckpointingContext(guarded, {
            input: { ...input, owner: 'user:default/mock' },
            isDryRun,
          }).ctx,
        ),
      ).rejects.toThrow(
        'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/guests (nor transfer it to user:default/mock): the permission policy denies mlflow.instance.update on it',
      );
    }
    expect(cluster.applied).toHaveLength(0);
  });

  it('refuses a rerun on objects recording another owner when the instance has no entity yet', async () => {
    cluster.objects.set('Namespace//mlflow-demo', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'mlflow-demo',
        labels: OURS,
        annotations: { 'mlflow.org/owner': 'group:default/guests' },
      },
    });
    const guarded = withInputDefaults(
      createKubernetesDeployAction({
        ...testTenancy(),
        fetch: fakeMlflowAuthApi().fetch,
        authorization: fakeAuthorization(),
        kubernetes: () => cluster,
        pollIntervalMs: 1,
      }),
    );
    await expect(
      guarded.handler(createCheckpointingContext(guarded, { input }).ctx),
    ).rejects.toThrow(
      'user:default/mock may not change MLflow instance "demo" (component:default/demo), owned by group:default/guests: user:default/mock is not a member of group:default/guests',
    );
    expect(cluster.applied).toHaveLength(0);
  });
});
