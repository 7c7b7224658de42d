/** Longest time one AWS call or PostgreSQL statement may take unless the action is told otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/**
 * A call given up on: it did not answer within its timeout, or the task was cancelled. Its `code`
 * is ETIMEDOUT for a timeout, so a poll inside `waitFor` looks again while the wait has time left.
 *
 * @public
 */
export class CallAbandonedError extends Error {
  readonly code: 'ETIMEDOUT' | 'ECANCELED';

  constructor(what: string, cause: 'timeout' | 'cancelled', timeoutMs: number) {
    super(
      cause === 'cancelled'
        ? `Cancelled: ${what} was abandoned because the task was cancelled`
        : `${what} did not answer within ${Math.ceil(
            timeoutMs / 1000,
          )}s and was abandoned; check that the service is reachable and healthy, or raise timeoutSeconds, then run the task again`,
    );
    this.name = 'CallAbandonedError';
    this.code = cause === 'timeout' ? 'ETIMEDOUT' : 'ECANCELED';
  }
}

/**
 * The signal of one call and how long it was given.
 *
 * @public
 */
export type CallLimit = {
  signal: AbortSignal;
  timeoutMs: number;
  /** The error to report once `signal` has fired. */
  abandoned(what: string): CallAbandonedError;
};

/**
 * The time limits of one step: every external call gets its own timeout, never runs past the
 * step's `timeoutSeconds`, and stops when the task is cancelled.
 *
 * @public
 */
export class StepDeadline {
  private readonly endsAt: number;

  constructor(
    private readonly options: {
      timeoutSeconds: number;
      signal?: AbortSignal;
      callTimeoutMs?: number;
    },
  ) {
    this.endsAt = Date.now() + options.timeoutSeconds * 1000;
  }

  /** The longest one call may take. */
  get callTimeoutMs(): number {
    return this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  /** Milliseconds left before the step's timeout; never negative. */
  remainingMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  /** Limits for the next call: its timeout or the step's deadline, whichever comes first. */
  nextCall(): CallLimit {
    const timeoutMs = Math.max(
      1,
      Math.min(this.callTimeoutMs, this.remainingMs()),
    );
    const cancel = this.options.signal;
    const signal = cancel
      ? AbortSignal.any([cancel, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);
    return {
      signal,
      timeoutMs,
      abandoned: what =>
        new CallAbandonedError(
          what,
          cancel?.aborted ? 'cancelled' : 'timeout',
          timeoutMs,
        ),
    };
  }
}

/**
 * Settles with `promise`, or rejects as soon as the call's signal fires, whether or not the client
 * behind `promise` noticed: a peer that never answers must not hold the step.
 */
export function untilAbandoned<T>(
  promise: Promise<T>,
  limit: CallLimit,
  what: string,
): Promise<T> {
  if (limit.signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(limit.abandoned(what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(limit.abandoned(what));
    limit.signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      value => {
        limit.signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      error => {
        limit.signal.removeEventListener('abort', onAbort);
        reject(limit.signal.aborted ? limit.abandoned(what) : error);
      },
    );
  });
}
