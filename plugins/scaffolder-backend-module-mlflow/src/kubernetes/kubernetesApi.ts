import {
  ApiException,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { InputError, NotAllowedError, isError } from '@backstage/errors';
import { MANAGED_BY_STATEFUL_MLFLOW } from '@stateful-mlflow/plugin-mlflow-common';
import type { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';

/** Field manager of every server-side apply we do. */
export const FIELD_MANAGER = MANAGED_BY_STATEFUL_MLFLOW;

/** Identifies one object on a cluster. */
export type ObjectRef = {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
};

/** The few Kubernetes operations the actions need, so tests can pass an in-memory fake. */
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
}

/** Gives the Kubernetes API of a configured cluster by name. */
export type KubernetesApiProvider = (cluster: string) => MlflowKubernetesApi;

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

function rbacVerbs(verb: string) {
  if (verb.endsWith('apply')) {
    return 'get, create and patch';
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

/** Kubernetes APIs of the clusters configured under kubernetes.clusterLocatorMethods. */
export function kubernetesApiFromClusters(
  clusters: MlflowClusters,
): KubernetesApiProvider {
  return cluster => {
    const api = KubernetesObjectApi.makeApiClient(clusters.kubeConfig(cluster));
    return {
      async apply(object, { dryRun }) {
        try {
          return await api.patch(
            object,
            undefined,
            dryRun ? 'All' : undefined,
            FIELD_MANAGER,
            // Never take fields from another manager: a conflict is reported instead.
            false,
            PatchStrategy.ServerSideApply,
          );
        } catch (error) {
          throw explainKubernetesError(
            error,
            dryRun ? 'dry-run apply' : 'apply',
            refOf(object),
            cluster,
          );
        }
      },
      async read<T extends KubernetesObject>(ref: ObjectRef) {
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
          throw explainKubernetesError(error, 'read', ref, cluster);
        }
      },
      async list<T extends KubernetesObject>(options: {
        apiVersion: string;
        kind: string;
        namespace: string;
        labelSelector: string;
      }) {
        try {
          const result = await api.list<T>(
            options.apiVersion,
            options.kind,
            options.namespace,
            undefined,
            undefined,
            undefined,
            undefined,
            options.labelSelector,
          );
          return result.items;
        } catch (error) {
          throw explainKubernetesError(
            error,
            'list',
            { ...options, name: options.labelSelector },
            cluster,
          );
        }
      },
    };
  };
}
