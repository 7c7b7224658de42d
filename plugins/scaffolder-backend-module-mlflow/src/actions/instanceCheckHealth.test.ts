import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import yaml from 'yaml';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { instanceLabels } from '../__testUtils__/tenancy';
import { FetchLike } from '../tracking/healthUser';
import { createInstanceCheckHealthAction } from './instanceCheckHealth';
import { examples } from './instanceCheckHealth.examples';

const clusters = new MlflowClusters([
  { name: 'local', url: 'https://127.0.0.1:16443', skipTLSVerify: true },
]);
const HEALTH_LOGIN = `Basic ${Buffer.from(
  'backstage-health:h3alth-pw',
).toString('base64')}`;

/** A tracking server that reports `versions` in turn (the rollout replacing old pods). */
function fakeServer(versions: string[]) {
  const calls: Array<{ url: string; authorization?: string }> = [];
  let looks = 0;
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, authorization: init.headers.authorization });
    const signedIn = init.headers.authorization === HEALTH_LOGIN;
    if (url.endsWith('/health')) {
      return { status: 200, text: async () => 'OK' };
    }
    if (!signedIn) {
      return { status: 401, text: async () => '' };
    }
    if (url.endsWith('/version')) {
      const version = versions[Math.min(looks++, versions.length - 1)];
      return { status: 200, text: async () => version };
    }
    return { status: 200, text: async () => '{}' };
  };
  return { fetch, calls };
}

async function setup(versions: string[]) {
  const api = new FakeKubernetesApi();
  await api.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'demo-mlflow-health',
        namespace: 'mlflow-demo',
        labels: instanceLabels('demo'),
      },
      stringData: { username: 'backstage-health', password: 'h3alth-pw' },
    } as never,
    { dryRun: false },
  );
  const server = fakeServer(versions);
  const action = createInstanceCheckHealthAction({
    clusters,
    kubernetes: () => api,
    fetch: server.fetch,
    pollIntervalMs: 1,
  });
  return { action, server };
}

const input = yaml.parse(examples[0].example).steps[0].input;

describe('mlflow:instance:checkHealth', () => {
  it('waits until the server reports the expected version, signed in as the health user', async () => {
    const { action, server } = await setup(['3.16.1', '3.16.1', '3.17.2']);
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    expect(run.outputs).toEqual({ version: '3.17.2' });
    expect(server.calls.filter(c => c.url.endsWith('/version')).length).toBe(3);
    expect(
      server.calls
        .filter(c => !c.url.endsWith('/health'))
        .every(c => c.authorization === HEALTH_LOGIN),
    ).toBe(true);
    // The login never reaches the log.
    expect(JSON.stringify(run.logs)).not.toContain('h3alth-pw');
  });

  it('fails at its timeout when the version never comes, saying what it saw', async () => {
    const { action } = await setup(['3.16.1']);
    const run = createCheckpointingContext(action, {
      input: { ...input, timeoutSeconds: 1 },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /reports MLflow 3\.16\.1, not 3\.17\.2 yet/,
    );
  });

  it('refuses a tracking URL with a path before any request', async () => {
    const { action, server } = await setup(['3.17.2']);
    const run = createCheckpointingContext(action, {
      input: { ...input, trackingUrl: 'http://demo.mlflow.localhost/admin' },
    });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      'Invalid trackingUrl: received "http://demo.mlflow.localhost/admin". Accepted: http(s)://<host> without a path',
    );
    expect(server.calls).toEqual([]);
  });
});
