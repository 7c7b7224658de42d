import { InputError } from '@backstage/errors';
import { V1Deployment, V1Job } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { IMAGE_HINT } from '../kubernetes/migrationJob';
import { createKubernetesDeployAction } from './kubernetesDeploy';
import { withInputDefaults } from './withInputDefaults';
import {
  fakeMlflowAuthApi,
  SEEDED_ADMIN_PASSWORD,
  SEEDED_HEALTH_PASSWORD,
  seedAuthSecrets,
} from '../__testUtils__/authFixtures';
import {
  fakeAuthorization,
  instanceLabels,
  testGuardRails,
  testIdentityKeys,
  testTenancy,
} from '../__testUtils__/tenancy';

const input = {
  name: 'demo',
  cluster: 'local',
  image: 'ghcr.io/acme/mlflow:3.1.0',
  hostname: 'demo.mlflow.localhost',
  region: 'eu-west-1',
  artifactsDestination: 's3://acme-mlflow-demo/artifacts',
  rdsInstanceId: 'mlflow-demo',
  databaseName: 'mlflow_demo',
};

/** The identity of instance demo, as the actions write it. */
const OURS = {
  'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow',
  'app.kubernetes.io/instance': 'demo',
};

function clusterWithSecret() {
  const cluster = new FakeKubernetesApi();
  cluster.objects.set('Namespace//mlflow-demo', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'mlflow-demo', labels: OURS },
  });
  cluster.objects.set('Secret/mlflow-demo/demo-db', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'demo-db', namespace: 'mlflow-demo', labels: OURS },
  });
  seedAuthSecrets(cluster, { name: 'demo', labels: OURS });
  return cluster;
}

/** The action as the module registers it: schema defaults filled in for absent inputs. */
function deployAction(cluster: FakeKubernetesApi, pollIntervalMs = 1) {
  return withInputDefaults(
    createKubernetesDeployAction({
      kubernetes: () => cluster,
      pollIntervalMs,
      ...testTenancy(),
      fetch: fakeMlflowAuthApi().fetch,
    }),
  );
}

describe('mlflow:kubernetes:deploy', () => {
  let cluster: FakeKubernetesApi;
  let action: ReturnType<typeof deployAction>;

  beforeEach(() => {
    cluster = clusterWithSecret();
    action = deployAction(cluster);
  });

  it('applies every object, the migration Job completing before the Deployment', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, { input });
    await action.handler(ctx);
    expect(cluster.applied.map(a => a.key)).toEqual([
      'Namespace//mlflow-demo',
      'ServiceAccount/mlflow-demo/mlflow',
      'ConfigMap/mlflow-demo/demo-config',
      'Service/mlflow-demo/demo',
      'NetworkPolicy/mlflow-demo/demo',
      'PodDisruptionBudget/mlflow-demo/demo',
      expect.stringMatching(/^Job\/mlflow-demo\/demo-db-upgrade-[0-9a-f]{10}$/),
      'Deployment/mlflow-demo/demo',
      'Ingress/mlflow-demo/demo',
    ]);
    expect(cluster.applied.every(a => !a.dryRun)).toBe(true);
    expect(outputs).toEqual({
      namespace: 'mlflow-demo',
      deployment: 'demo',
      authMode: 'basic-auth',
      authSecretName: 'demo-mlflow-auth',
      serviceUrl: 'http://demo.mlflow-demo.svc.cluster.local:5000',
      trackingUrl: 'http://demo.mlflow.localhost',
    });
  });

  it('treats blank optional inputs (an empty form field) as absent', async () => {
    const { ctx, outputs } = createCheckpointingContext(action, {
      input: {
        ...input,
        namespace: '',
        tlsSecretName: '',
        ingressClassName: '',
        roleArn: '',
        system: '',
        databaseSecretName: '',
        backendStoreUri: '',
        manifestsPath: '',
      },
    });
    await action.handler(ctx);
    expect(outputs).toMatchObject({
      namespace: 'mlflow-demo',
      trackingUrl: 'http://demo.mlflow.localhost',
    });
    expect(outputs.manifestsPath).toBeUndefined();
  });

  it('surfaces a failed migration with its termination message and the image hint', async () => {
    cluster.jobOutcome = 'fail';
    const { ctx } = createCheckpointingContext(action, { input });
    const error = await action.handler(ctx).catch(e => e);
    expect(error.message).toMatch(
      /database migration Job mlflow-demo\/demo-db-upgrade-\w+ failed/,
    );
    expect(error.message).toContain("No module named 'psycopg2'");
    expect(error.message).toContain(IMAGE_HINT);
    expect(cluster.stored('Deployment')).toHaveLength(0);
  });

  it('replaces a failed migration Job on the next run and converges', async () => {
    cluster.jobOutcome = 'fail';
    const failed = createCheckpointingContext(action, { input });
    await expect(action.handler(failed.ctx)).rejects.toThrow(
      /migration Job .* failed.*Running the task again replaces the failed Job/,
    );
    const [job] = cluster.stored('Job');
    const jobKey = `Job/mlflow-demo/${job.metadata!.name}`;

    cluster.jobOutcome = 'succeed';
    const rerun = createCheckpointingContext(action, { input });
    await action.handler(rerun.ctx);
    expect(cluster.deleted).toEqual([
      { key: jobKey, propagationPolicy: 'Foreground' },
    ]);
    const [replaced] = cluster.stored('Job');
    expect(replaced.metadata!.uid).not.toBe(job.metadata!.uid);
    expect((replaced as V1Job).status?.succeeded).toBe(1);
    expect(cluster.stored('Deployment')).toHaveLength(1);
    expect(rerun.logs.map(l => l.message).join('\n')).toMatch(
      /failed in an earlier run \(BackoffLimitExceeded\); replacing it/,
    );
  });

  it('hands the task cancellation signal to every Kubernetes call', async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const watched = withInputDefaults(
      createKubernetesDeployAction({
        ...testTenancy(),
        fetch: fakeMlflowAuthApi().fetch,
        kubernetes: (_name, options) => {
          signals.push(options?.signal);
          return cluster;
        },
        pollIntervalMs: 1,
      }),
    );
    const controller = new AbortController();
    const { ctx } = createCheckpointingContext(watched, {
      input,
      signal: controller.signal,
    });
    await watched.handler(ctx);
    expect(signals).toEqual([controller.signal]);
  });

  it('fails the rollout wait after its timeout with the replica counts', async () => {
    cluster.deploymentBecomesReady = false;
    const slow = deployAction(cluster, 200);
    const { ctx } = createCheckpointingContext(slow, {
      input: { ...input, timeoutSeconds: 1 },
    });
    await expect(slow.handler(ctx)).rejects.toThrow(
      /Timed out after 1s waiting for Deployment mlflow-demo\/demo.*0\/2 updated, 0\/2 ready/,
    );
  });

  it('refuses a sqlite store or local artifacts without allowEphemeralStorage, before touching the cluster', async () => {
    for (const extra of [
      { backendStoreUri: 'sqlite:////tmp/mlflow.db' },
      { artifactsDestination: '/tmp/artifacts' },
      { artifactsDestination: 'file:///tmp/artifacts' },
    ]) {
      const { ctx } = createCheckpointingContext(action, {
        input: { ...input, ...extra },
      });
      const error = await action.handler(ctx).catch(e => e);
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(
        /Refusing ephemeral storage.*a restart wipes every experiment/,
      );
    }
    expect(cluster.applied).toHaveLength(0);
  });

  it('turns sign-in on for an anonymous instance, sets up the health user as the admin, and never shows a password', async () => {
    cluster.objects.set('Deployment/mlflow-demo/demo', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'demo',
        namespace: 'mlflow-demo',
        labels: OURS,
        annotations: { 'mlflow.org/owner': 'user:default/mock' },
      },
    });
    const mlflow = fakeMlflowAuthApi();
    const withApi = withInputDefaults(
      createKubernetesDeployAction({
        kubernetes: () => cluster,
        pollIntervalMs: 1,
        ...testTenancy(),
        fetch: mlflow.fetch,
      }),
    );
    const { ctx, logs, outputs } = createCheckpointingContext(withApi, {
      input,
    });
    await withApi.handler(ctx);
    expect(logs.map(l => l.message).join('\n')).toMatch(
      /Turning on sign-in for MLflow instance demo/,
    );
    expect(mlflow.users.has('backstage-health')).toBe(true);
    const scanned = JSON.stringify({ logs, outputs });
    expect(scanned).not.toContain(SEEDED_ADMIN_PASSWORD);
    expect(scanned).not.toContain(SEEDED_HEALTH_PASSWORD);
  });

  it('creates the health-check user as the admin after the rollout, then checks it can search', async () => {
    const mlflow = fakeMlflowAuthApi();
    const withApi = withInputDefaults(
      createKubernetesDeployAction({
        kubernetes: () => cluster,
        pollIntervalMs: 1,
        ...testTenancy(),
        fetch: mlflow.fetch,
      }),
    );
    const { ctx, logs } = createCheckpointingContext(withApi, { input });
    await withApi.handler(ctx);
    expect(mlflow.calls).toEqual([
      { method: 'GET', path: '/api/2.0/mlflow/users/get', user: 'admin' },
      { method: 'POST', path: '/api/2.0/mlflow/users/create', user: 'admin' },
      {
        method: 'POST',
        path: '/api/2.0/mlflow/experiments/search',
        user: 'backstage-health',
      },
    ]);
    expect(mlflow.users.has('backstage-health')).toBe(true);
    expect(logs.map(l => l.message)).toContain(
      'Health-check user backstage-health created',
    );
  });

  it('asks for the database step when the sign-in Secret is missing, before applying anything', async () => {
    cluster.objects.delete('Secret/mlflow-demo/demo-mlflow-auth');
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /sign-in Secret mlflow-demo\/demo-mlflow-auth does not exist\. Run mlflow:database:create/,
    );
    expect(cluster.applied).toHaveLength(0);
  });

  it('deploys ephemeral storage with a loud warning when allowed', async () => {
    const { ctx, logs } = createCheckpointingContext(action, {
      input: {
        ...input,
        allowEphemeralStorage: true,
        allowAnonymousAccess: true,
        backendStoreUri: 'sqlite:////tmp/mlflow.db',
        artifactsDestination: '/tmp/artifacts',
        replicas: 1,
      },
    });
    await action.handler(ctx);
    const warning = logs.find(l => l.level === 'warn');
    expect(warning?.message).toMatch(
      /EPHEMERAL STORAGE.*LOST WHEN A POD RESTARTS/,
    );
    expect(cluster.stored('Job')).toHaveLength(0);
  });

  it('never takes a database URI inline', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: {
        ...input,
        allowEphemeralStorage: true,
        backendStoreUri: 'postgresql://u:p@db:5432/mlflow',
      },
    });
    const error = await action.handler(ctx).catch(e => e);
    expect(error.message).toMatch(/never written into a manifest/);
    expect(error.message).not.toContain('u:p@');
  });

  it.each([
    ['name', 'demo\nkind: Secret', /Invalid name/],
    ['namespace', 'kube-system', /Invalid namespace/],
    ['image', 'ghcr.io/acme/mlflow:3.1.0; rm -rf /', /Invalid image/],
    ['hostname', 'localhost', /Invalid hostname/],
    ['artifactsDestination', 'gs://bucket/x', /Invalid artifactsDestination/],
    ['artifactsDestination', 's3://Bad_Bucket/x', /S3 bucket name/],
    ['replicas', 1, /at least 2 in prod/],
    ['extraEnv', { AWS_SECRET_ACCESS_KEY: 'x' }, /non-secret settings only/],
    ['memoryLimit', 'lots', /Kubernetes quantity/],
    ['system', 'a b', /Invalid system/],
  ])(
    'rejects %s %j before touching the cluster',
    async (field, value, message) => {
      const { ctx } = createCheckpointingContext(action, {
        input: { ...input, environment: 'prod', [field]: value },
      });
      await expect(action.handler(ctx)).rejects.toThrow(message);
      expect(cluster.applied).toHaveLength(0);
    },
  );

  it('refuses when replicas × workers cannot fit the database connections', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, replicas: 10, workers: 8, dbMaxConnections: 50 },
    });
    await expect(action.handler(ctx)).rejects.toThrow(
      /do not fit in dbMaxConnections 50/,
    );
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

  it('asks for the database step when its Secret is missing, before applying anything', async () => {
    cluster.objects.delete('Secret/mlflow-demo/demo-db');
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      /Secret mlflow-demo\/demo-db does not exist. Run mlflow:database:create/,
    );
    const fresh = new FakeKubernetesApi();
    const inEmptyCluster = deployAction(fresh);
    await expect(
      inEmptyCluster.handler(
        createCheckpointingContext(inEmptyCluster, { input }).ctx,
      ),
    ).rejects.toThrow(/does not exist. Run mlflow:database:create/);
    expect(cluster.applied).toHaveLength(0);
    expect(fresh.applied).toHaveLength(0);
  });

  it('replays on recovery and converges on a second run', async () => {
    const first = createCheckpointingContext(action, { input });
    await action.handler(first.ctx);
    const applied = cluster.applied.length;
    const recovered = createCheckpointingContext(action, {
      input,
      store: first.store,
    });
    await action.handler(recovered.ctx);
    expect(recovered.executed).toEqual([]);
    expect(cluster.applied).toHaveLength(applied);

    const rerun = createCheckpointingContext(action, { input });
    await action.handler(rerun.ctx);
    expect(cluster.stored('Deployment')).toHaveLength(1);
    expect(
      (cluster.stored('Deployment')[0] as V1Deployment).metadata!.generation,
    ).toBe(2);
  });

  it('writes the manifests into the workspace without applying when apply is false', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'mlflow-deploy-'));
    const { ctx, outputs } = createCheckpointingContext(action, {
      input: {
        ...input,
        apply: false,
        manifestsPath: 'manifests/mlflow.yaml',
        description: 'key: value\n---\nkind: Secret',
      },
      workspacePath,
    });
    await action.handler(ctx);
    expect(cluster.applied).toHaveLength(0);
    expect(outputs.manifestsPath).toBe('manifests/mlflow.yaml');
    const docs = yaml
      .parseAllDocuments(
        readFileSync(join(workspacePath, 'manifests/mlflow.yaml'), 'utf8'),
      )
      .map(d => d.toJSON());
    expect(docs.map(d => d.kind)).toContain('Deployment');
    expect(docs.map(d => d.kind)).not.toContain('Secret');
    const deployment = docs.find(d => d.kind === 'Deployment');
    expect(deployment.metadata.annotations['mlflow.org/description']).toBe(
      'key: value\n---\nkind: Secret',
    );
  });

  it('refuses a manifestsPath outside the workspace', async () => {
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, apply: false, manifestsPath: '../outside.yaml' },
      workspacePath: mkdtempSync(join(tmpdir(), 'mlflow-deploy-')),
    });
    await expect(action.handler(ctx)).rejects.toThrow(/outside/i);
  });
});
