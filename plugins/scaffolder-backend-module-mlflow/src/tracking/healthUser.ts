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
 * Answers that come from the way to the server, not from MLflow: a gateway with no ready backend
 * yet (502–504), or a 404 without MLflow's error code (an Ingress or Service that has not caught up
 * with the new pods). Right after a rollout a real ingress controller, like the stack's, can take a
 * moment to route to the pods the Deployment just reported ready.
 */
function notRoutedYet(status: number, code: string | undefined) {
  return (
    status === 502 ||
    status === 503 ||
    status === 504 ||
    (status === 404 && code === 'no error code')
  );
}

function sleep(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
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
  /** How long the tracking URL may take to route to the new pods (default 2 minutes). */
  routeTimeoutMs?: number;
  /** Between two looks while it does not (default 1 s). */
  routeRetryMs?: number;
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

  // The first call waits, bounded, until the tracking URL reaches MLflow itself.
  const routeDeadline = Date.now() + (o.routeTimeoutMs ?? 120_000);
  let lookup: { status: number; code?: string };
  for (;;) {
    const response = await call(
      'GET',
      `/api/2.0/mlflow/users/get?username=${encodeURIComponent(
        o.health.username,
      )}`,
      o.admin,
    );
    lookup = {
      status: response.status,
      code: response.status === 200 ? undefined : await errorCode(response),
    };
    if (
      !notRoutedYet(lookup.status, lookup.code) ||
      Date.now() >= routeDeadline
    ) {
      break;
    }
    await sleep(o.routeRetryMs ?? 1000, o.signal);
  }
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
  } else if (lookup.status === 404 && !notRoutedYet(404, lookup.code)) {
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
    throw new Error(
      `Looking up the health user as the admin at ${o.trackingUrl} answered ${
        lookup.status
      } (${lookup.code})${
        notRoutedYet(lookup.status, lookup.code)
          ? `, still not reaching MLflow after ${Math.round(
              (o.routeTimeoutMs ?? 120_000) / 1000,
            )} s`
          : ''
      }`,
    );
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
