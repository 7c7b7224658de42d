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

/** What the step found or did: the user signed in as it was, or was created, or got its password set. */
export type HealthUserOutcome = 'ready' | 'created' | 'updated';

/**
 * Makes sure the health-check user signs in with the password of the health Secret and can search
 * experiments (which reads the backend store). The migration Job usually made it already, so the
 * first call signs in as that user: one request when it works. When it does not (no user, or
 * another password: a Secret regenerated since the Job ran), the admin creates the user or sets
 * its password through MLflow's auth REST API, and the search is tried again. The user is never
 * an admin: it has the default permission.
 */
export async function ensureHealthUser(o: {
  trackingUrl: string;
  admin: MlflowLogin;
  health: MlflowLogin;
  fetch: FetchLike;
  signal?: AbortSignal;
  /** How long the tracking URL may take to route to the new pods (default 2 minutes). */
  routeTimeoutMs?: number;
  /** Between two looks while it does not (default 250 ms). */
  routeRetryMs?: number;
}): Promise<HealthUserOutcome> {
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
  const search = () =>
    call('POST', '/api/2.0/mlflow/experiments/search', o.health, {
      max_results: 1,
    });

  // The first call waits, bounded, until the tracking URL reaches MLflow itself.
  const routeDeadline = Date.now() + (o.routeTimeoutMs ?? 120_000);
  let first: { status: number; code?: string };
  for (;;) {
    const response = await search();
    first = {
      status: response.status,
      code: response.status === 200 ? undefined : await errorCode(response),
    };
    if (
      !notRoutedYet(first.status, first.code) ||
      Date.now() >= routeDeadline
    ) {
      break;
    }
    await sleep(o.routeRetryMs ?? 250, o.signal);
  }
  if (first.status === 200) {
    return 'ready';
  }
  if (first.status !== 401 && first.status !== 403) {
    throw new Error(
      `Signing in as the health user at ${o.trackingUrl} answered ${
        first.status
      } (${first.code})${
        notRoutedYet(first.status, first.code)
          ? `, still not reaching MLflow after ${Math.round(
              (o.routeTimeoutMs ?? 120_000) / 1000,
            )} s`
          : ''
      }`,
    );
  }

  const lookup = await call(
    'GET',
    `/api/2.0/mlflow/users/get?username=${encodeURIComponent(
      o.health.username,
    )}`,
    o.admin,
  );
  let outcome: HealthUserOutcome;
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
  const again = await search();
  if (again.status !== 200) {
    throw await failed('Searching experiments as the health user', again);
  }
  return outcome;
}
