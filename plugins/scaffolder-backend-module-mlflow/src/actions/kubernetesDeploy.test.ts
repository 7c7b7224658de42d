import { V1Deployment, V1Job } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'yaml';
import { fakeMlflowAuthApi } from '../__testUtils__/authFixtures';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  clusterWithSecret,
  deployAction,
  input,
} from '../__testUtils__/kubernetesDeployFixtures';
import { testTenancy } from '../__testUtils__/tenancy';
import { IMAGE_HINT } from '../kubernetes/migrationJob';
import { createKubernetesDeployAction } from '../actionFactories';
import { withInputDefaults } from './withInputDefaults';

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
