import { NotAllowedError } from '@backstage/errors';
import {
  ANNOTATION_MLFLOW_TRACKING_URL,
  MlflowTrackingServerDetails,
} from '@stateful-mlflow/plugin-mlflow-common';
import { KeyedConcurrencyLimiter } from '../KeyedConcurrencyLimiter';
import { PinnedResponse, pinnedHttpRequest } from '../pinnedHttpRequest';
import { CheckedTarget, TrackingUrlGuard } from '../TrackingUrlGuard';
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
  if (error instanceof NotAllowedError || error instanceof RedirectError) {
    return error.message;
  }
  const code = codeOf(error);
  return (code && PLAIN_FAILURES[code]) ?? 'request failed';
}

export type TrackingServerCheckOptions = {
  guard: TrackingUrlGuard;
  limiter: KeyedConcurrencyLimiter;
};

/**
 * Liveness (`/health`, a static answer), the version, and a read of the backend store
 * (`experiments/search`), since a server whose database is gone still answers `/health`.
 */
export function createTrackingServerCheck(
  options: TrackingServerCheckOptions,
): HealthCheck<'trackingServer'> {
  const { guard, limiter } = options;

  /** Calls `path` on the checked server; every redirect target is checked again before it is called. */
  async function call(
    server: CheckedTarget,
    path: string,
    init: { method: 'GET' | 'POST'; body?: string; signal: AbortSignal },
  ): Promise<PinnedResponse> {
    let target: CheckedTarget = {
      ...server,
      url: new URL(endpoint(server.url.toString(), path)),
    };
    let currentInit = init;
    for (let hop = 0; ; hop++) {
      const requestInit = currentInit;
      const pinned = target;
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
        currentInit = { method: 'GET', signal: init.signal };
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
      const details: MlflowTrackingServerDetails = {
        url: displayTrackingUrl(raw) ?? '',
        live: false,
        backendStoreReachable: false,
      };

      const [health, version, search] = await Promise.allSettled([
        call(server, '/health', { method: 'GET', signal }),
        call(server, '/version', { method: 'GET', signal }),
        call(server, '/api/2.0/mlflow/experiments/search', {
          method: 'POST',
          body: JSON.stringify({ max_results: 1 }),
          signal,
        }),
      ]);

      if (version.status === 'fulfilled' && version.value.status === 200) {
        const text = version.value.body.trim();
        if (/^[\w.+-]{1,40}$/.test(text)) {
          details.version = text;
        }
      }
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
      if (searchStatus === 401 || searchStatus === 403) {
        return {
          status: 'warning',
          summary: `Tracking server is live; the backend store was not checked because the server asks for authentication (HTTP ${searchStatus}).`,
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
      return {
        status: 'ok',
        summary: `MLflow${
          details.version ? ` ${details.version}` : ''
        } answers and reads its backend store.`,
        details,
      };
    },
  };
}
