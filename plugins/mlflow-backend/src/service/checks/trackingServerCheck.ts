import { NotAllowedError } from '@backstage/errors';
import {
  ANNOTATION_MLFLOW_HEALTH_SECRET,
  ANNOTATION_MLFLOW_TRACKING_URL,
  MlflowEntityInfo,
  MlflowTrackingServerDetails,
  parseMlflowAuthMode,
} from '@stateful-mlflow/plugin-mlflow-common';
import {
  HealthCredentials,
  HealthCredentialsReader,
  HealthSecretError,
  HealthSecretLocation,
} from '../healthCredentials';
import { KeyedConcurrencyLimiter } from '../KeyedConcurrencyLimiter';
import { PinnedResponse, pinnedHttpRequest } from '../pinnedHttpRequest';
import { CheckedTarget, TrackingUrlGuard } from '../TrackingUrlGuard';
import { complianceOf, failedPoints } from './trackingServerCompliance';
import {
  CheckOutcome,
  HealthCheck,
  messageOf,
  missingAnnotation,
} from './types';

const MAX_REDIRECTS = 3;

/** The tracking URL without credentials, query or fragment, for reports and links. */
export function displayTrackingUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return undefined;
    }
    return `${url.origin}${url.pathname}`.replace(/\/$/, '');
  } catch {
    return undefined;
  }
}

function endpoint(trackingUrl: string, path: string): string {
  const url = new URL(trackingUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** A refused or endless redirect; its message is ours, so a summary may show it. */
class RedirectError extends Error {
  name = 'RedirectError';
}

/** Network error codes in plain words; a raw message can hold resolved internal addresses. */
const PLAIN_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ABORT_ERR: 'no answer in time',
};

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    return code;
  }
  if (error instanceof AggregateError) {
    return error.errors.map(codeOf).find(Boolean);
  }
  return error instanceof Error && error.cause
    ? codeOf(error.cause)
    : undefined;
}

/** A failure in plain words for a summary; the raw error goes to the backend log. */
function plainFailure(error: unknown): string {
  if (
    error instanceof NotAllowedError ||
    error instanceof RedirectError ||
    error instanceof HealthSecretError
  ) {
    return error.message;
  }
  const code = codeOf(error);
  return (code && PLAIN_FAILURES[code]) ?? 'request failed';
}

export type TrackingServerCheckOptions = {
  guard: TrackingUrlGuard;
  limiter: KeyedConcurrencyLimiter;
  /** Where the health user's credentials come from. */
  credentials: HealthCredentialsReader;
};

function basicAuthorization({ username, password }: HealthCredentials) {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The health Secret of an instance when the entity names one and says where it runs. */
function healthSecretOf(info: MlflowEntityInfo): HealthSecretLocation | string {
  if (!info.healthSecret) {
    return `the entity has no ${ANNOTATION_MLFLOW_HEALTH_SECRET} annotation`;
  }
  if (!info.kubernetesCluster || !info.kubernetesNamespace) {
    return 'the entity does not say which cluster and namespace hold the health Secret';
  }
  return {
    cluster: info.kubernetesCluster,
    namespace: info.kubernetesNamespace,
    name: info.healthSecret,
  };
}

function answerStatus(
  result: PromiseSettledResult<PinnedResponse | undefined>,
): number | undefined {
  return result.status === 'fulfilled' ? result.value?.status : undefined;
}

/**
 * Liveness (`/health`, a static answer), the version, and a read of the backend store
 * (`experiments/search`), since a server whose database is gone still answers `/health`. With
 * authentication on, the version and the store read are made as the instance's health user; an
 * anonymous request then proves the door is locked.
 */
export function createTrackingServerCheck(
  options: TrackingServerCheckOptions,
): HealthCheck<'trackingServer'> {
  const { guard, limiter, credentials } = options;

  /**
   * Calls `path` on the checked server; every redirect target is checked again before it is
   * called, and credentials go only to the server's own origin.
   */
  async function call(
    server: CheckedTarget,
    path: string,
    init: {
      method: 'GET' | 'POST';
      body?: string;
      authorization?: string;
      signal: AbortSignal;
    },
  ): Promise<PinnedResponse> {
    let target: CheckedTarget = {
      ...server,
      url: new URL(endpoint(server.url.toString(), path)),
    };
    let currentInit = init;
    for (let hop = 0; ; hop++) {
      const pinned = target;
      const requestInit =
        pinned.url.origin === server.url.origin
          ? currentInit
          : { ...currentInit, authorization: undefined };
      const response = await limiter.run(
        `${pinned.hostname}:${pinned.port}`,
        () => pinnedHttpRequest(pinned, requestInit),
      );
      if (response.status < 300 || response.status >= 400) {
        return response;
      }
      if (!response.location) {
        return response;
      }
      if (hop >= MAX_REDIRECTS) {
        throw new RedirectError(`more than ${MAX_REDIRECTS} redirects`);
      }
      const next = new URL(response.location, pinned.url).toString();
      try {
        target = await guard.check(next);
      } catch (error) {
        throw new RedirectError(
          `redirected to a refused location: ${plainFailure(error)}`,
        );
      }
      if (response.status === 303) {
        currentInit = {
          method: 'GET',
          authorization: init.authorization,
          signal: init.signal,
        };
      }
    }
  }

  return {
    id: 'trackingServer',
    async run({ info, signal, log }): Promise<CheckOutcome<'trackingServer'>> {
      const raw = info.trackingUrl;
      if (!raw) {
        return missingAnnotation(ANNOTATION_MLFLOW_TRACKING_URL);
      }
      let server: CheckedTarget;
      try {
        server = await guard.check(raw);
      } catch (error) {
        log(`tracking URL refused: ${messageOf(error)}`);
        return {
          status: 'unknown',
          summary: `Not checked: ${plainFailure(error)}`,
        };
      }
      const authMode = parseMlflowAuthMode(info.authMode);
      const details: MlflowTrackingServerDetails = {
        url: displayTrackingUrl(raw) ?? '',
        live: false,
        backendStoreReachable: false,
        ...(authMode ? { authMode } : {}),
        ...(info.authAdminSecret
          ? { adminSecretName: info.authAdminSecret }
          : {}),
      };

      const secret =
        authMode === 'basic-auth' ? healthSecretOf(info) : undefined;
      const healthUser =
        typeof secret === 'object'
          ? credentials.read(secret).then(basicAuthorization)
          : Promise.resolve(undefined);
      // Awaited with the other calls; a failure is reported below, never thrown.
      healthUser.catch(() => undefined);
      const [health, version, search, anonymous] = await Promise.allSettled([
        call(server, '/health', { method: 'GET', signal }),
        healthUser.then(authorization =>
          call(server, '/version', { method: 'GET', authorization, signal }),
        ),
        healthUser.then(authorization =>
          call(server, '/api/2.0/mlflow/experiments/search', {
            method: 'POST',
            body: JSON.stringify({ max_results: 1 }),
            authorization,
            signal,
          }),
        ),
        // Without credentials the store read itself is the anonymous request.
        healthUser.then(authorization =>
          authorization
            ? call(server, '/version', { method: 'GET', signal })
            : undefined,
        ),
      ]);
      const signedIn = await healthUser.then(
        authorization => authorization !== undefined,
        () => false,
      );

      if (version.status === 'fulfilled' && version.value.status === 200) {
        const text = version.value.body.trim();
        if (/^[\w.+-]{1,40}$/.test(text)) {
          details.version = text;
        }
      }
      const anonymousAnswer = answerStatus(signedIn ? anonymous : search);
      details.compliance = complianceOf(details, server.url, anonymousAnswer);

      if (health.status === 'rejected') {
        log(`/health: ${messageOf(health.reason)}`);
        return {
          status: 'error',
          summary: `Tracking server does not answer /health (${plainFailure(
            health.reason,
          )}).`,
          details,
        };
      }
      details.live = health.value.status === 200;
      if (!details.live) {
        return {
          status: 'error',
          summary: `Tracking server answered /health with HTTP ${health.value.status}.`,
          details,
        };
      }
      if (search.status === 'rejected') {
        if (search.reason instanceof HealthSecretError) {
          return {
            status: 'warning',
            summary: `Tracking server is live; the backend store was not checked because ${search.reason.message}.`,
            details,
          };
        }
        log(`experiments/search: ${messageOf(search.reason)}`);
        return {
          status: 'error',
          summary: `Tracking server is live but the backend store call failed (${plainFailure(
            search.reason,
          )}).`,
          details,
        };
      }
      const searchStatus = search.value.status;
      details.backendStoreReachable = searchStatus === 200;
      if (signedIn && searchStatus === 401) {
        // The password may have been rotated: read the Secret again next time.
        if (typeof secret === 'object') {
          credentials.forget(secret);
        }
        return {
          status: 'warning',
          summary:
            'Tracking server is live, but the health user was refused (HTTP 401), so the backend store was not checked.',
          details,
        };
      }
      if (signedIn && searchStatus === 403) {
        return {
          status: 'warning',
          summary:
            'Tracking server is live, but the health user may not read experiments (HTTP 403), so the backend store was not checked.',
          details,
        };
      }
      if (searchStatus === 401 || searchStatus === 403) {
        let why = '';
        if (typeof secret === 'string') {
          why = `; ${secret}`;
        } else if (authMode === undefined) {
          why = '; the entity does not say how it authenticates';
        }
        return {
          status: 'warning',
          summary: `Tracking server is live; the backend store was not checked because the server asks for authentication (HTTP ${searchStatus})${why}.`,
          details,
        };
      }
      if (!details.backendStoreReachable) {
        return {
          status: 'error',
          summary: `Tracking server is live but cannot read its backend store (experiments/search answered HTTP ${searchStatus}).`,
          details,
        };
      }
      const failed = failedPoints(details.compliance);
      const answers = `MLflow${
        details.version ? ` ${details.version}` : ''
      } answers and reads its backend store${
        signedIn ? ' (as the health user)' : ''
      }`;
      if (failed.length > 0) {
        return {
          status: 'warning',
          summary: `${answers}, but ${failed.join('; ')}.`,
          details,
        };
      }
      return { status: 'ok', summary: `${answers}.`, details };
    },
  };
}
