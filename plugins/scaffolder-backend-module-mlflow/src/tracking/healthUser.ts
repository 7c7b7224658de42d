/** A username and password for MLflow's basic-auth app. */
export type MlflowLogin = { username: string; password: string };

/**
 * The fetch the step uses; tests pass a fake.
 *
 * @public
 */
export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
  },
) => Promise<{ status: number; text(): Promise<string> }>;

function basic(login: MlflowLogin): string {
  return `Basic ${Buffer.from(`${login.username}:${login.password}`).toString(
    'base64',
  )}`;
}

/** MLflow's error code from a response body, never the body itself (it could echo a request). */
async function errorCode(response: { text(): Promise<string> }) {
  const text = await response.text().catch(() => '');
  try {
    const code = (JSON.parse(text) as { error_code?: unknown }).error_code;
    return typeof code === 'string' ? code : 'no error code';
  } catch {
    return 'no error code';
  }
}

/**
 * Makes sure the health-check user exists with the password of the health Secret, through
 * MLflow's auth REST API as the admin: created when absent, its password set when present (so a
 * regenerated Secret and the user agree). It is never an admin: it has the default permission.
 * Then checks the user can search experiments, which reads the backend store.
 */
export async function ensureHealthUser(o: {
  trackingUrl: string;
  admin: MlflowLogin;
  health: MlflowLogin;
  fetch: FetchLike;
  signal?: AbortSignal;
}): Promise<'created' | 'updated'> {
  const call = async (
    method: string,
    path: string,
    login: MlflowLogin,
    body?: unknown,
  ) =>
    o.fetch(`${o.trackingUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: {
        Authorization: basic(login),
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: o.signal,
    });
  const failed = async (
    what: string,
    response: { status: number; text(): Promise<string> },
  ) =>
    new Error(
      `${what} at ${o.trackingUrl} answered ${
        response.status
      } (${await errorCode(response)})`,
    );

  const lookup = await call(
    'GET',
    `/api/2.0/mlflow/users/get?username=${encodeURIComponent(
      o.health.username,
    )}`,
    o.admin,
  );
  let outcome: 'created' | 'updated';
  if (lookup.status === 200) {
    const update = await call(
      'PATCH',
      '/api/2.0/mlflow/users/update-password',
      o.admin,
      o.health,
    );
    if (update.status !== 200) {
      throw await failed('Setting the health user password', update);
    }
    outcome = 'updated';
  } else if (lookup.status === 404) {
    const create = await call(
      'POST',
      '/api/2.0/mlflow/users/create',
      o.admin,
      o.health,
    );
    if (create.status !== 200) {
      throw await failed('Creating the health user', create);
    }
    outcome = 'created';
  } else {
    throw await failed('Looking up the health user as the admin', lookup);
  }
  const search = await call(
    'POST',
    '/api/2.0/mlflow/experiments/search',
    o.health,
    { max_results: 1 },
  );
  if (search.status !== 200) {
    throw await failed('Searching experiments as the health user', search);
  }
  return outcome;
}
