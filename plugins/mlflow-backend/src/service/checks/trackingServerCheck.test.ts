import { MlflowEntityInfo } from '@stateful-mlflow/plugin-mlflow-common';
import {
  fakeSecrets,
  mlflowEntity,
  startFakeMlflowServer,
} from '../../testUtils/healthFixtures';
import { createHealthCredentialsReader } from '../healthCredentials';
import { KeyedConcurrencyLimiter } from '../KeyedConcurrencyLimiter';
import { CheckedTarget, TrackingUrlGuard } from '../TrackingUrlGuard';
import { createTrackingServerCheck } from './trackingServerCheck';

const HEALTH_USER = { username: 'backstage-health', password: 'h3alth-pass' };
const ADMIN_PASSWORD = 'adm1n-pass';

/** Connects every URL to the fake server on 127.0.0.1, whatever its host, like a DNS answer. */
function pinningGuard(port: number): TrackingUrlGuard {
  return {
    check: async (raw: string): Promise<CheckedTarget> => {
      const url = new URL(raw);
      return {
        url,
        hostname: url.hostname,
        port: Number(url.port) || port,
        addresses: [{ address: '127.0.0.1', family: 4 }],
      };
    },
  } as TrackingUrlGuard;
}

describe('trackingServerCheck', () => {
  let mlflow: Awaited<ReturnType<typeof startFakeMlflowServer>>;

  beforeEach(async () => {
    mlflow = await startFakeMlflowServer({
      users: {
        [HEALTH_USER.username]: HEALTH_USER.password,
        admin: ADMIN_PASSWORD,
      },
    });
  });

  afterEach(async () => {
    await mlflow.stop();
  });

  function setup(
    options: {
      secrets?: Record<string, Record<string, string>>;
      refused?: string[];
    } = {},
  ) {
    const secretReads: string[] = [];
    const logged: string[] = [];
    const credentials = createHealthCredentialsReader({
      secretsFor: fakeSecrets(
        options.secrets ?? { 'prod/prod-mlflow-health': HEALTH_USER },
        { refused: options.refused, calls: secretReads },
      ),
      ttlMs: 60_000,
      timeoutMs: 1000,
      log: (message, error) => logged.push(`${message}: ${String(error)}`),
    });
    const check = createTrackingServerCheck({
      guard: pinningGuard(mlflow.port),
      limiter: new KeyedConcurrencyLimiter(4),
      credentials,
    });
    const run = async (annotations: Record<string, string | undefined>) => {
      const entity = mlflowEntity('prod', {
        'mlflow.org/tracking-url': `http://prod.mlflow.localhost:${mlflow.port}`,
        'mlflow.org/auth-mode': 'basic-auth',
        'mlflow.org/auth-admin-secret': 'prod-mlflow-auth',
        'mlflow.org/health-secret': 'prod-mlflow-health',
        ...annotations,
      });
      const a = entity.metadata.annotations!;
      const info: MlflowEntityInfo = {
        trackingUrl: a['mlflow.org/tracking-url'],
        kubernetesCluster: a['mlflow.org/kubernetes-cluster'],
        kubernetesNamespace: a['backstage.io/kubernetes-namespace'],
        authMode: a['mlflow.org/auth-mode'],
        authAdminSecret: a['mlflow.org/auth-admin-secret'],
        healthSecret: a['mlflow.org/health-secret'],
      };
      return check.run({
        entity,
        info,
        signal: new AbortController().signal,
        log: message => logged.push(message),
      });
    };
    return { run, secretReads, logged };
  }

  const authorizationOf = (user: { username: string; password: string }) =>
    `Basic ${Buffer.from(`${user.username}:${user.password}`).toString(
      'base64',
    )}`;

  it('reads the store as the health user and proves an anonymous request is refused', async () => {
    const { run, secretReads } = setup();
    const outcome = await run({});
    expect(outcome).toMatchObject({
      status: 'ok',
      summary:
        'MLflow 3.1.0 answers and reads its backend store (as the health user).',
      details: {
        live: true,
        backendStoreReachable: true,
        version: '3.1.0',
        authMode: 'basic-auth',
        adminSecretName: 'prod-mlflow-auth',
        compliance: [
          { id: 'authentication', ok: true, required: true },
          { id: 'https', ok: true, required: true },
        ],
      },
    });
    expect(secretReads).toEqual(['prod/prod-mlflow-health']);
    const sent = mlflow.requests
      .map(r => `${r.method} ${r.path} ${r.authorization ? 'signed' : 'anon'}`)
      .sort();
    expect(sent).toEqual([
      'GET /health anon',
      'GET /version anon',
      'GET /version signed',
      'POST /api/2.0/mlflow/experiments/search signed',
    ]);
    expect(
      mlflow.requests
        .filter(r => r.authorization)
        .every(r => r.authorization === authorizationOf(HEALTH_USER)),
    ).toBe(true);
  });

  it('keeps the health user briefly: a second run reads the Secret no more', async () => {
    const { run, secretReads } = setup();
    await run({});
    await run({});
    expect(secretReads).toEqual(['prod/prod-mlflow-health']);
  });

  it('says the health user was refused on a 401, echoes no credential and reads the Secret again next time', async () => {
    mlflow.state.users = { admin: ADMIN_PASSWORD };
    const { run, secretReads, logged } = setup();
    const outcome = await run({});
    expect(outcome).toMatchObject({
      status: 'warning',
      summary:
        'Tracking server is live, but the health user was refused (HTTP 401), so the backend store was not checked.',
      details: { live: true, backendStoreReachable: false },
    });
    const everything = JSON.stringify([outcome, logged]);
    expect(everything).not.toContain(HEALTH_USER.password);
    expect(everything).not.toContain(
      Buffer.from(HEALTH_USER.password).toString('base64'),
    );
    expect(everything).not.toContain(
      authorizationOf(HEALTH_USER).slice('Basic '.length),
    );
    await run({});
    expect(secretReads).toHaveLength(2);
  });

  it('is a warning when the health user may not read experiments (403)', async () => {
    mlflow.state.forbiddenUsers = [HEALTH_USER.username];
    const { run } = setup();
    expect(await run({})).toMatchObject({
      status: 'warning',
      summary:
        'Tracking server is live, but the health user may not read experiments (HTTP 403), so the backend store was not checked.',
    });
  });

  it('names the health Secret it could not read, never calls the store signed in, and logs the raw error', async () => {
    const refused = setup({ refused: ['prod/prod-mlflow-health'] });
    expect(await refused.run({})).toMatchObject({
      status: 'warning',
      summary:
        'Tracking server is live; the backend store was not checked because the health Secret prod/prod-mlflow-health could not be read (access denied).',
    });
    expect(refused.logged.join('\n')).toMatch(/forbidden/);
    expect(mlflow.requests.some(r => r.authorization)).toBe(false);

    const missing = setup({ secrets: {} });
    expect((await missing.run({})).summary).toBe(
      'Tracking server is live; the backend store was not checked because the health Secret prod/prod-mlflow-health does not exist.',
    );

    const empty = setup({
      secrets: { 'prod/prod-mlflow-health': { username: 'x' } },
    });
    expect((await empty.run({})).summary).toBe(
      'Tracking server is live; the backend store was not checked because the health Secret prod/prod-mlflow-health lacks the username or password key.',
    );
  });

  it('says which annotation is missing when the server asks for authentication and no health Secret is named', async () => {
    const { run, secretReads } = setup();
    expect(await run({ 'mlflow.org/health-secret': undefined })).toMatchObject({
      status: 'warning',
      summary:
        'Tracking server is live; the backend store was not checked because the server asks for authentication (HTTP 401); the entity has no mlflow.org/health-secret annotation.',
    });
    expect(secretReads).toEqual([]);
  });

  it('fails the authentication point of an anonymous instance, without reading any Secret', async () => {
    mlflow.state.users = undefined;
    const { run, secretReads } = setup();
    const outcome = await run({
      'mlflow.org/auth-mode': 'anonymous',
      'mlflow.org/auth-admin-secret': undefined,
    });
    expect(outcome).toMatchObject({
      status: 'warning',
      summary:
        'MLflow 3.1.0 answers and reads its backend store, but authentication is off (anyone who reaches it can read and write).',
      details: {
        authMode: 'anonymous',
        compliance: [
          { id: 'authentication', ok: false, required: true },
          { id: 'https', ok: true, required: true },
        ],
      },
    });
    expect(outcome.details?.adminSecretName).toBeUndefined();
    expect(secretReads).toEqual([]);
  });

  it('fails the authentication point when a server said to need sign-in answers anonymously', async () => {
    mlflow.state.users = undefined;
    const { run } = setup();
    const outcome = await run({});
    expect(outcome.status).toBe('warning');
    expect(outcome.details?.compliance?.[0]).toMatchObject({
      id: 'authentication',
      ok: false,
    });
  });

  it('fails the HTTPS point for http:// on a host that is not local, and passes it for localhost', async () => {
    const { run } = setup();
    const remote = await run({
      'mlflow.org/tracking-url': `http://mlflow.example.com:${mlflow.port}`,
    });
    expect(remote).toMatchObject({
      status: 'warning',
      summary:
        'MLflow 3.1.0 answers and reads its backend store (as the health user), but the tracking URL is plain HTTP on a host that is not local.',
    });
    expect(remote.details?.compliance?.[1]).toMatchObject({
      id: 'https',
      ok: false,
      required: true,
    });
    for (const host of ['localhost', '127.0.0.1', 'a.b.localhost']) {
      const local = await run({
        'mlflow.org/tracking-url': `http://${host}:${mlflow.port}`,
      });
      expect([host, local.details?.compliance?.[1]?.ok]).toEqual([host, true]);
    }
  });

  it('sends the health user to its own server only, never to a redirect on another origin', async () => {
    const other = await startFakeMlflowServer();
    try {
      mlflow.state.redirectTo = `${other.url}/api/2.0/mlflow/experiments/search`;
      const { run } = setup();
      await run({});
      expect(other.requests.length).toBeGreaterThan(0);
      expect(other.requests.map(r => r.authorization)).toEqual(
        other.requests.map(() => undefined),
      );
    } finally {
      await other.stop();
    }
  });
});
