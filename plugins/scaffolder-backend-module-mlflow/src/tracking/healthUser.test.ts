import { fakeMlflowAuthApi } from '../__testUtils__/authFixtures';
import { ensureHealthUser, FetchLike } from './healthUser';

const logins = {
  admin: { username: 'admin', password: 'admin-secret' },
  health: { username: 'backstage-health', password: 'health-secret' },
};

/** The fake MLflow behind a way in that answers `first` for its first `times` requests. */
function notRoutedFor(times: number, first: { status: number; body: string }) {
  const mlflow = fakeMlflowAuthApi();
  let left = times;
  const fetch: FetchLike = async (url, init) => {
    if (left > 0) {
      left--;
      return { status: first.status, text: async () => first.body };
    }
    return mlflow.fetch(url, init);
  };
  return { mlflow, fetch };
}

describe('ensureHealthUser', () => {
  it('waits while the tracking URL does not reach MLflow yet (gateway 503, then an ingress 404), then creates the user', async () => {
    const gateway = notRoutedFor(2, { status: 503, body: 'no endpoints' });
    await expect(
      ensureHealthUser({
        trackingUrl: 'http://demo.mlflow.localhost',
        ...logins,
        fetch: gateway.fetch,
        routeRetryMs: 1,
      }),
    ).resolves.toBe('created');
    expect(gateway.mlflow.users.has('backstage-health')).toBe(true);

    const ingress = notRoutedFor(3, {
      status: 404,
      body: 'local ingress: no Ingress rule or Service matches host',
    });
    await expect(
      ensureHealthUser({
        trackingUrl: 'http://demo.mlflow.localhost',
        ...logins,
        fetch: ingress.fetch,
        routeRetryMs: 1,
      }),
    ).resolves.toBe('created');
  });

  it('gives up after its bound with what it saw, creating nothing, when MLflow is never reached', async () => {
    const never = notRoutedFor(Infinity, { status: 404, body: 'not found' });
    await expect(
      ensureHealthUser({
        trackingUrl: 'http://demo.mlflow.localhost',
        ...logins,
        fetch: never.fetch,
        routeTimeoutMs: 50,
        routeRetryMs: 5,
      }),
    ).rejects.toThrow(
      'Signing in as the health user at http://demo.mlflow.localhost answered 404 (no error code), still not reaching MLflow after 0 s',
    );
    expect(never.mlflow.users.has('backstage-health')).toBe(false);
  });

  it('creates the user at once when MLflow itself says it does not exist', async () => {
    const mlflow = fakeMlflowAuthApi();
    await expect(
      ensureHealthUser({
        trackingUrl: 'http://demo.mlflow.localhost',
        ...logins,
        fetch: mlflow.fetch,
        routeTimeoutMs: 0,
      }),
    ).resolves.toBe('created');
    expect(mlflow.calls.map(c => `${c.method} ${c.path} ${c.user}`)).toEqual([
      'POST /api/2.0/mlflow/experiments/search backstage-health',
      'GET /api/2.0/mlflow/users/get admin',
      'POST /api/2.0/mlflow/users/create admin',
      'POST /api/2.0/mlflow/experiments/search backstage-health',
    ]);
  });

  it('makes one call when the user already signs in with the Secret password (the migration Job made it)', async () => {
    const mlflow = fakeMlflowAuthApi();
    mlflow.users.add('backstage-health');
    mlflow.passwords.set('backstage-health', 'health-secret');
    await expect(
      ensureHealthUser({
        trackingUrl: 'http://demo.mlflow.localhost',
        ...logins,
        fetch: mlflow.fetch,
        routeTimeoutMs: 0,
      }),
    ).resolves.toBe('ready');
    expect(mlflow.calls.map(c => `${c.method} ${c.path} ${c.user}`)).toEqual([
      'POST /api/2.0/mlflow/experiments/search backstage-health',
    ]);
  });

  it('sets the password as the admin when the user has another one (a Secret regenerated since the Job ran)', async () => {
    const mlflow = fakeMlflowAuthApi();
    mlflow.users.add('backstage-health');
    mlflow.passwords.set('backstage-health', 'an-older-password');
    await expect(
      ensureHealthUser({
        trackingUrl: 'http://demo.mlflow.localhost',
        ...logins,
        fetch: mlflow.fetch,
        routeTimeoutMs: 0,
      }),
    ).resolves.toBe('updated');
    expect(mlflow.passwords.get('backstage-health')).toBe('health-secret');
    expect(mlflow.calls.map(c => `${c.method} ${c.path} ${c.user}`)).toEqual([
      'POST /api/2.0/mlflow/experiments/search backstage-health',
      'GET /api/2.0/mlflow/users/get admin',
      'PATCH /api/2.0/mlflow/users/update-password admin',
      'POST /api/2.0/mlflow/experiments/search backstage-health',
    ]);
  });

  it('fails naming the answer when the server refuses the health user for another reason', async () => {
    const broken: FetchLike = async () => ({
      status: 500,
      text: async () => JSON.stringify({ error_code: 'INTERNAL_ERROR' }),
    });
    await expect(
      ensureHealthUser({
        trackingUrl: 'http://demo.mlflow.localhost',
        ...logins,
        fetch: broken,
        routeTimeoutMs: 0,
      }),
    ).rejects.toThrow(
      'Signing in as the health user at http://demo.mlflow.localhost answered 500 (INTERNAL_ERROR)',
    );
  });
});
