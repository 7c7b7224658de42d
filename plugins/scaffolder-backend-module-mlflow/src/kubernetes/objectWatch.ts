import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { ObjectRef, WatchHandlers } from './kubernetesApi';

/** Resource names of the kinds the waits watch. */
const PLURALS: Record<string, string> = {
  Job: 'jobs',
  Deployment: 'deployments',
  Pod: 'pods',
};

/**
 * The API server closes each watch after this long (cleanly, so it is opened again at once), before
 * the client's own 30 s inactivity timeout would abort a quiet one as a failure.
 */
const WATCH_SECONDS = 25;

/**
 * Watches one namespaced object by name with the API server's watch (a field selector on its name),
 * or with `labelSelector` every object of its kind in the namespace that matches it.
 * Every event but a bookmark calls `onChange`; `onClose` is called once, when the stream ends or
 * fails (with the error) and never after `stop` or an abort of `signal`.
 */
export function watchObject(
  kubeConfig: KubeConfig,
  ref: ObjectRef,
  handlers: WatchHandlers,
  signal?: AbortSignal,
  options?: { labelSelector?: string },
): () => void {
  const plural = PLURALS[ref.kind];
  if (!plural || !ref.namespace) {
    throw new Error(
      `Cannot watch ${ref.kind} ${ref.name}: only namespaced ${Object.keys(
        PLURALS,
      ).join(', ')} objects are watched`,
    );
  }
  const group = ref.apiVersion.includes('/') ? 'apis' : 'api';
  const path = `/${group}/${ref.apiVersion}/namespaces/${ref.namespace}/${plural}`;
  let controller: AbortController | undefined;
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) {
      return;
    }
    ended = true;
    signal?.removeEventListener('abort', stop);
    handlers.onClose(error ?? undefined);
  };
  function stop() {
    if (!ended) {
      ended = true;
      signal?.removeEventListener('abort', stop);
    }
    controller?.abort();
  }
  if (signal?.aborted) {
    ended = true;
    return stop;
  }
  signal?.addEventListener('abort', stop, { once: true });
  new Watch(kubeConfig)
    .watch(
      path,
      {
        ...(options?.labelSelector
          ? { labelSelector: options.labelSelector }
          : { fieldSelector: `metadata.name=${ref.name}` }),
        timeoutSeconds: WATCH_SECONDS,
      },
      phase => {
        if (!ended && phase !== 'BOOKMARK') {
          handlers.onChange();
        }
      },
      error => end(error),
    )
    .then(
      started => {
        controller = started;
        if (ended) {
          started.abort();
        }
      },
      error => end(error),
    );
  return stop;
}
