import { InputError } from '@backstage/errors';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  LABEL_APP_MANAGED_BY,
  MANAGED_BY_STATEFUL_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import { describeRef, MlflowKubernetesApi, refOf } from './kubernetesApi';

/** What the cluster already holds of an instance, read before anything is sent to it. */
export type ClusterState = {
  /** The namespace exists (ours or someone else's). */
  namespaceExists: boolean;
  /** The objects to apply: without the Namespace when an existing foreign one is used as it is. */
  toApply: KubernetesObject[];
  /** The database Secret is absent (or the namespace is). */
  databaseSecretMissing: boolean;
};

function managedBy(object: KubernetesObject | undefined) {
  return object?.metadata?.labels?.[LABEL_APP_MANAGED_BY];
}

/**
 * Reads the namespace and every object of the instance; refuses any object that exists but was
 * not written by these actions, so nothing is taken over silently.
 */
export async function readClusterState(options: {
  api: MlflowKubernetesApi;
  name: string;
  namespace: string;
  objects: KubernetesObject[];
  /** The Secret holding the backend store URI; absent for ephemeral storage. */
  databaseSecretName?: string;
  log: (message: string) => void;
}): Promise<ClusterState> {
  const { api, name, namespace, objects } = options;
  const existingNamespace = await api.read({
    apiVersion: 'v1',
    kind: 'Namespace',
    name: namespace,
  });
  const useExistingNamespace =
    existingNamespace !== undefined &&
    managedBy(existingNamespace) !== MANAGED_BY_STATEFUL_MLFLOW;
  if (useExistingNamespace) {
    options.log(`Using the existing namespace ${namespace} as it is`);
  }
  const toApply = objects.filter(
    o => !(useExistingNamespace && o.kind === 'Namespace'),
  );
  if (!existingNamespace) {
    return {
      namespaceExists: false,
      toApply,
      databaseSecretMissing: options.databaseSecretName !== undefined,
    };
  }
  for (const object of toApply) {
    const ref = refOf(object);
    const existing = await api.read(ref);
    if (existing && managedBy(existing) !== MANAGED_BY_STATEFUL_MLFLOW) {
      throw new InputError(
        `${describeRef(
          ref,
        )} already exists and is not managed by Backstage's MLflow actions (label ${LABEL_APP_MANAGED_BY}=${
          managedBy(existing) ?? 'unset'
        }). It is not taken over silently: choose another instance name or namespace than "${name}".`,
      );
    }
  }
  const secret =
    options.databaseSecretName &&
    (await api.read({
      apiVersion: 'v1',
      kind: 'Secret',
      name: options.databaseSecretName,
      namespace,
    }));
  return {
    namespaceExists: true,
    toApply,
    databaseSecretMissing: options.databaseSecretName !== undefined && !secret,
  };
}
