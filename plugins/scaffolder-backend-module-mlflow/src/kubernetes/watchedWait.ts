import { LoggerService } from '@backstage/backend-plugin-api';
import { waitFor, WaitCheck } from '../util/waitFor';
import { describeRef, MlflowKubernetesApi, ObjectRef } from './kubernetesApi';
import { secondsLeft, StepWait } from './stepWait';

/** Longest silence between progress lines of a Kubernetes wait. */
export const WATCHED_WAIT_PROGRESS_MS = 15_000;

/** What a wait needs from a watch: wake up on a change, and stop. */
export type ChangeFeed = {
  /** Resolves at the next change (at once if one came since the last call) or after `ms`. */
  nextLook(ms: number, signal?: AbortSignal): Promise<void>;
  stop(): void;
};

/** What a wait watches: one object by name, or with `labelSelector` the objects of its kind matching it. */
export type WatchTarget = { ref: ObjectRef; labelSelector?: string };

/**
 * Watches some objects so a wait looks again as soon as one changes instead of at the next poll.
 * A closed watch (the API server ends watches after a while, or the connection broke) counts as a
 * change, since events may have been missed: the wait reads the objects again (the re-list) and
 * the watch is opened again (resumed). Without `api.watch` (fakes), every look is after `ms`.
 */
export function watchChanges(options: {
  api: MlflowKubernetesApi;
  targets: WatchTarget[];
  logger: LoggerService;
  signal?: AbortSignal;
  /** Pause before watching again after a failed watch (the poll interval): no hammering. */
  retryMs: number;
}): ChangeFeed {
  const { api, targets, logger, signal, retryMs } = options;
  let changed = false;
  let stopped = false;
  let wake: (() => void) | undefined;

  const notify = () => {
    changed = true;
    wake?.();
  };
  const watchTarget = ({ ref, labelSelector }: WatchTarget) => {
    let stopWatch: (() => void) | undefined;
    let rewatchTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const what = labelSelector
      ? `the ${ref.kind}s of ${labelSelector} in ${ref.namespace}`
      : describeRef(ref);
    const open = () => {
      if (stopped || signal?.aborted || !api.watch) {
        return;
      }
      stopWatch = api.watch(
        ref,
        {
          onChange: () => {
            failures = 0;
            notify();
          },
          onClose: error => {
            stopWatch = undefined;
            notify();
            if (stopped) {
              return;
            }
            if (error) {
              failures++;
              // One line, not one per retry: the wait still looks at its poll interval meanwhile.
              if (failures === 1) {
                logger.info(
                  `Watching ${what} failed (${
                    error instanceof Error ? error.message : String(error)
                  }); looking at it every poll interval until a watch works again`,
                );
              }
              rewatchTimer = setTimeout(open, retryMs);
            } else {
              open();
            }
          },
        },
        ...(labelSelector ? [{ labelSelector }] : []),
      );
    };
    open();
    return () => {
      clearTimeout(rewatchTimer);
      stopWatch?.();
      stopWatch = undefined;
    };
  };
  const stops = targets.map(watchTarget);

  return {
    nextLook(ms, lookSignal) {
      return new Promise((resolve, reject) => {
        if (lookSignal?.aborted) {
          reject(new Error('Cancelled'));
          return;
        }
        if (changed) {
          changed = false;
          resolve();
          return;
        }
        const cleanup = new AbortController();
        const pending: { timer?: ReturnType<typeof setTimeout> } = {};
        const finish = (error?: Error) => {
          clearTimeout(pending.timer);
          cleanup.abort();
          wake = undefined;
          if (error) {
            reject(error);
          } else {
            resolve();
          }
        };
        pending.timer = setTimeout(() => finish(), ms);
        wake = () => {
          changed = false;
          finish();
        };
        lookSignal?.addEventListener(
          'abort',
          () => finish(new Error('Cancelled')),
          { once: true, signal: cleanup.signal },
        );
      });
    },
    stop() {
      stopped = true;
      for (const stop of stops) {
        stop();
      }
    },
  };
}

/**
 * Waits until `check` is done, looking again whenever the watch of `ref` (or of one of `also`)
 * sees a change (and at least every 15 s, with a progress line), bounded by the step's deadline
 * and cancelled with it. Without a watch (a fake API), or while watching fails, it looks every
 * poll interval.
 */
export async function waitWatching<T>(options: {
  api: MlflowKubernetesApi;
  ref: ObjectRef;
  /** More to watch, e.g. the pods of a Job, whose changes come before the Job's own status. */
  also?: WatchTarget[];
  wait: StepWait;
  what: string;
  check: () => Promise<WaitCheck<T>>;
}): Promise<T> {
  const { api, ref, wait, what, check } = options;
  const feed = watchChanges({
    api,
    targets: [{ ref }, ...(options.also ?? [])],
    logger: wait.logger,
    signal: wait.signal,
    retryMs: wait.pollIntervalMs,
  });
  try {
    return await waitFor({
      what,
      timeoutSeconds: secondsLeft(wait),
      logger: wait.logger,
      signal: wait.signal,
      pollIntervalMs: api.watch
        ? WATCHED_WAIT_PROGRESS_MS
        : Math.min(wait.pollIntervalMs, WATCHED_WAIT_PROGRESS_MS),
      progressIntervalMs: WATCHED_WAIT_PROGRESS_MS,
      nextLook: feed.nextLook,
      check,
    });
  } finally {
    feed.stop();
  }
}
