import {
  ApiException,
  createConfiguration,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { InputError, NotAllowedError, isError } from '@backstage/errors';
import { MANAGED_BY_STATEFUL_MLFLOW } from '@stateful-mlflow/plugin-mlflow-common';
import type { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { AsyncLocalStorage } from 'node:async_hooks';
import { watchObject } from './objectWatch';

/** Field manager of every server-side apply we do. */
export const FIELD_MANAGER = MANAGED_BY_STATEFUL_MLFLOW;

/** Longest a single Kubernetes API call may take before it is abandoned. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * Identifies one object on a cluster.
 *
 * @public
 */
export type ObjectRef = {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
};

/**
 * What a watch reports: a change of the watched object, and the end of the stream.
 *
 * @public
 */
export type WatchHandlers = {
  onChange: () => void;
  /** The stream ended (with the error when it failed); events may have been missed since. */
  onClose: (error?: unknown) => void;
};

/**
 * The few Kubernetes operations the actions need, so tests can pass an in-memory fake.
 *
 * @public
 */
export interface MlflowKubernetesApi {
  /** Server-side apply with our field manager; `dryRun` sends dryRun=All and persists nothing. */
  apply<T extends KubernetesObject>(
    object: T,
    options: { dryRun: boolean },
  ): Promise<T>;
  /** The object, or undefined when it does not exist. */
  read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubernetesObject>(options: {
    apiVersion: string;
    kind: string;
    namespace: string;
    labelSelector: string;
  }): Promise<T[]>;
  /**
   * Creates with dryRun=All: the API server validates and admits the object as a new one and
   * persists nothing. `nameTaken` when an object of that name exists there already: the API
   * server looks for one only after validation and admission passed.
   */
  dryRunCreate(object: KubernetesObject): Promise<'accepted' | 'nameTaken'>;
  /** Deletes the object (already gone counts as done); Foreground waits for its dependents. */
  delete(
    ref: ObjectRef,
    options: { propagationPolicy: 'Foreground' | 'Background' },
  ): Promise<void>;
  /**
   * Watches one namespaced Job, Deployment or Pod by name, so waits look again when it changes;
   * with `labelSelector`, every object of that kind in the namespace that matches it instead
   * (`ref.name` unused). Returns a function that stops the watch. Without it (a fake), waits poll.
   */
  watch?(
    ref: ObjectRef,
    handlers: WatchHandlers,
    options?: { labelSelector?: string },
  ): () => void;
}

/**
 * Gives the Kubernetes API of a configured cluster by name. Every call of it is abandoned when
 * `signal` aborts (the task was cancelled).
 *
 * @public
 */
export type KubernetesApiProvider = (
  cluster: string,
  options?: { signal?: AbortSignal },
) => MlflowKubernetesApi;

export function describeRef(ref: ObjectRef) {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

export function refOf(object: KubernetesObject): ObjectRef {
  return {
    apiVersion: object.apiVersion!,
    kind: object.kind!,
    name: object.metadata!.name!,
    namespace: object.metadata?.namespace,
  };
}

function kubernetesMessage(error: ApiException<unknown>): string {
  const body = error.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body);
      if (typeof parsed?.message === 'string') {
        return parsed.message;
      }
    } catch {
      return body.slice(0, 500);
    }
    return body.slice(0, 500);
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : error.message;
}

function isAlreadyExists(error: unknown) {
  if (!(error instanceof ApiException) || error.code !== 409) {
    return false;
  }
  const body =
    typeof error.body === 'string' ? safeJson(error.body) : error.body;
  return (body as { reason?: unknown } | undefined)?.reason === 'AlreadyExists';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function rbacVerbs(verb: string) {
  if (verb.endsWith('apply')) {
    return 'get, create and patch';
  }
  if (verb.endsWith('create')) {
    return 'create';
  }
  return verb === 'read' ? 'get' : verb;
}

/**
 * Turns a Kubernetes API failure into a message a template user can act on: which permission the
 * Backstage service account lacks, that another field manager owns a field, or what was invalid.
 */
export function explainKubernetesError(
  error: unknown,
  verb: string,
  ref: ObjectRef,
  cluster: string,
): Error {
  if (!(error instanceof ApiException)) {
    return isError(error) ? error : new Error(String(error));
  }
  const message = kubernetesMessage(error);
  const what = describeRef(ref);
  switch (error.code) {
    case 401:
    case 403:
      return new NotAllowedError(
        `Kubernetes cluster ${cluster} refused to let Backstage ${verb} ${what}: its service account needs RBAC permission to ${rbacVerbs(
          verb,
        )} ${ref.kind} objects${
          ref.namespace ? ` in namespace ${ref.namespace}` : ''
        } (see the plugin README). Kubernetes said: ${message}`,
      );
    case 409:
      return new InputError(
        `Cannot ${verb} ${what} on cluster ${cluster}: fields of it are managed by someone else (server-side apply conflict). Remove the other manager's fields or choose another instance name. Kubernetes said: ${message}`,
      );
    case 400:
    case 422:
      return new InputError(
        `Kubernetes cluster ${cluster} rejected ${what}: ${message}`,
      );
    default: {
      const failure = new Error(
        `Failed to ${verb} ${what} on cluster ${cluster} (HTTP ${error.code}): ${message}`,
      );
      if (error.code >= 500 || error.code === 429) {
        // Waits poll again after these instead of failing the step.
        failure.name = 'TransientError';
      }
      return failure;
    }
  }
}

/** The signal of the call in flight, read by the request middleware of the client. */
const callSignal = new AsyncLocalStorage<AbortSignal>();

function objectApi(kubeConfig: KubeConfig) {
  const server = kubeConfig.getCurrentCluster()!.server;
  return new KubernetesObjectApi(
    createConfiguration({
      baseServer: new ServerConfiguration(server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [
        {
          async pre(context: RequestContext) {
            const signal = callSignal.getStore();
            if (signal) {
              context.setSignal(signal);
            }
            return context;
          },
          post: async (response: ResponseContext) => response,
        },
      ],
    }),
  );
}

/**
 * Runs one API call (its discovery request included) under a signal that aborts at the per-call
 * timeout or when the task is cancelled, and explains a failure.
 */
async function guarded<T>(
  what: { verb: string; ref: ObjectRef; cluster: string },
  timing: { timeoutMs: number; signal?: AbortSignal },
  call: () => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(timing.timeoutMs);
  const signal = timing.signal
    ? AbortSignal.any([timing.signal, timeout])
    : timeout;
  const where = `${describeRef(what.ref)} on cluster ${what.cluster}`;
  if (timing.signal?.aborted) {
    throw new Error(`Cancelled before the ${what.verb} of ${where}`);
  }
  try {
    return await callSignal.run(signal, call);
  } catch (error) {
    if (timing.signal?.aborted) {
      throw new Error(`Cancelled during the ${what.verb} of ${where}`);
    }
    if (timeout.aborted) {
      const failure = new Error(
        `Kubernetes cluster ${what.cluster} did not answer the ${
          what.verb
        } of ${describeRef(what.ref)} within ${
          timing.timeoutMs / 1000
        }s; the call was abandoned`,
      );
      // Waits poll again after a slow answer instead of failing the step.
      failure.name = 'TransientError';
      throw failure;
    }
    throw error;
  }
}

/**
 * Kubernetes APIs of the clusters configured under kubernetes.clusterLocatorMethods.
 *
 * @public
 */
export function kubernetesApiFromClusters(
  clusters: MlflowClusters,
  options: { callTimeoutMs?: number } = {},
): KubernetesApiProvider {
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  return (cluster, { signal } = {}) => {
    const kubeConfig = clusters.kubeConfig(cluster);
    const api = objectApi(kubeConfig);
    const timing = { timeoutMs, signal };
    const run = <T>(verb: string, ref: ObjectRef, call: () => Promise<T>) =>
      guarded({ verb, ref, cluster }, timing, async () => {
        try {
          return await call();
        } catch (error) {
          throw explainKubernetesError(error, verb, ref, cluster);
        }
      });
    return {
      apply(object, { dryRun }) {
        return run(dryRun ? 'dry-run apply' : 'apply', refOf(object), () =>
          api.patch(
            object,
            undefined,
            dryRun ? 'All' : undefined,
            FIELD_MANAGER,
            // Never take fields from another manager: a conflict is reported instead.
            false,
            PatchStrategy.ServerSideApply,
          ),
        );
      },
      dryRunCreate(object) {
        return run('dry-run create', refOf(object), async () => {
          try {
            await api.create(object, undefined, 'All', FIELD_MANAGER);
            return 'accepted' as const;
          } catch (error) {
            if (isAlreadyExists(error)) {
              return 'nameTaken' as const;
            }
            throw error;
          }
        });
      },
      read<T extends KubernetesObject>(ref: ObjectRef) {
        return run('read', ref, async () => {
          try {
            return await api.read<T>({
              apiVersion: ref.apiVersion,
              kind: ref.kind,
              metadata: { name: ref.name, namespace: ref.namespace },
            });
          } catch (error) {
            if (error instanceof ApiException && error.code === 404) {
              return undefined;
            }
            throw error;
          }
        });
      },
      delete(ref, { propagationPolicy }) {
        return run('delete', ref, async () => {
          try {
            await api.delete(
              {
                apiVersion: ref.apiVersion,
                kind: ref.kind,
                metadata: { name: ref.name, namespace: ref.namespace },
              },
              undefined,
              undefined,
              undefined,
              undefined,
              propagationPolicy,
            );
          } catch (error) {
            if (!(error instanceof ApiException && error.code === 404)) {
              throw error;
            }
          }
        });
      },
      watch(ref, handlers, selection) {
        return watchObject(kubeConfig, ref, handlers, signal, selection);
      },
      list<T extends KubernetesObject>(query: {
        apiVersion: string;
        kind: string;
        namespace: string;
        labelSelector: string;
      }) {
        return run(
          'list',
          { ...query, name: query.labelSelector },
          async () =>
            (
              await api.list<T>(
                query.apiVersion,
                query.kind,
                query.namespace,
                undefined,
                undefined,
                undefined,
                undefined,
                query.labelSelector,
              )
            ).items,
        );
      },
    };
  };
}
