import { LoggerService } from '@backstage/backend-plugin-api';

/** One look at the thing being waited for: done with a value, or not yet with a status for the log. */
export type WaitCheck<T> =
  | { done: true; value: T }
  | { done: false; status: string };

export type WaitForOptions<T> = {
  /** What is awaited, for log lines and errors: "RDS instance mlflow-demo to become available". */
  what: string;
  timeoutSeconds: number;
  logger: LoggerService;
  signal?: AbortSignal;
  pollIntervalMs: number;
  /** Longest silence between progress lines. */
  progressIntervalMs?: number;
  /**
   * Resolves when it is worth looking again (a watch saw a change) or after `ms`, whichever comes
   * first; sleeping `ms` when unset. Rejects when `signal` aborts.
   */
  nextLook?: (ms: number, signal?: AbortSignal) => Promise<void>;
  check: () => Promise<WaitCheck<T>>;
};

const PROGRESS_INTERVAL_MS = 30_000;

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * True for failures worth another poll rather than failing a long wait: the endpoint unreachable
 * for a moment, a 5xx, or throttling. Anything else (a failed Job, a refusal) ends the wait.
 */
export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  const code = (error as { code?: unknown }).code;
  const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
  if (
    NETWORK_ERROR_CODES.has(String(code)) ||
    NETWORK_ERROR_CODES.has(String(causeCode))
  ) {
    return true;
  }
  if (
    error.name === 'TransientError' ||
    /^(Throttling|RequestLimitExceeded|TooManyRequests)/.test(error.name)
  ) {
    return true;
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } })
    .$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('Cancelled'));
      return;
    }
    let onAbort = () => {};
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    onAbort = () => {
      clearTimeout(timer);
      reject(new Error('Cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Looks with `check` (after each poll interval, or at once when `nextLook` says something changed)
 * until it reports done, the timeout passes or the task is cancelled, logging a
 * progress line at least every 30 seconds so a long wait never looks like a hang.
 */
export async function waitFor<T>(options: WaitForOptions<T>): Promise<T> {
  const { what, timeoutSeconds, logger, signal, pollIntervalMs, check } =
    options;
  const nextLook = options.nextLook ?? sleep;
  const progressIntervalMs = Math.min(
    options.progressIntervalMs ?? PROGRESS_INTERVAL_MS,
    PROGRESS_INTERVAL_MS,
  );
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  let lastProgress = started;
  let lastStatus = 'not checked yet';
  logger.info(`Waiting up to ${timeoutSeconds}s for ${what}`);
  for (;;) {
    if (signal?.aborted) {
      throw new Error(`Cancelled while waiting for ${what}`);
    }
    let result: WaitCheck<T>;
    try {
      result = await check();
    } catch (error) {
      if (!isTransientError(error)) {
        throw error;
      }
      result = {
        done: false,
        status: `could not look (${(error as Error).message}); trying again`,
      };
    }
    if (result.done) {
      logger.info(
        `Done waiting for ${what} after ${Math.round(
          (Date.now() - started) / 1000,
        )}s`,
      );
      return result.value;
    }
    lastStatus = result.status;
    const now = Date.now();
    if (now >= deadline) {
      throw new Error(
        `Timed out after ${timeoutSeconds}s waiting for ${what}; last status: ${lastStatus}. Raise timeoutSeconds or check the resource, then run the task again (finished steps are not repeated).`,
      );
    }
    if (now - lastProgress >= progressIntervalMs) {
      logger.info(
        `Still waiting for ${what} (${Math.round(
          (now - started) / 1000,
        )}s of ${timeoutSeconds}s): ${lastStatus}`,
      );
      lastProgress = now;
    }
    try {
      await nextLook(
        Math.min(
          pollIntervalMs,
          deadline - now,
          Math.max(1, lastProgress + progressIntervalMs - now),
        ),
        signal,
      );
    } catch {
      throw new Error(`Cancelled while waiting for ${what}`);
    }
  }
}
