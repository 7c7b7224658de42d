import type { V1Namespace, V1Secret } from '@kubernetes/client-node';
import { DEPLOYMENT_ANNOTATION_OWNER } from '@stateful-mlflow/plugin-mlflow-common';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';
import { foreignObjectError, kubernetesIdentity } from './clusterState';
import { readDatabaseSecret } from './databaseSecret';
import { MlflowKubernetesApi } from './kubernetesApi';

/**
 * Reads the instance's namespace and the Secrets the database step writes there, refusing a
 * namespace the guard rails forbid and any Secret of another instance before anything is read
 * out of it or rewritten.
 */
export async function readDatabaseNamespaceState(options: {
  kube: MlflowKubernetesApi;
  name: string;
  namespace: string;
  guardRails: ProvisioningGuardRails;
  databaseSecret: { namespace: string; secretName: string; field: string };
  /** Every Secret the step writes, the database Secret included. */
  secretNames: string[];
}) {
  const { kube, name, namespace } = options;
  const namespaceObject = await kube.read<V1Namespace>({
    apiVersion: 'v1',
    kind: 'Namespace',
    name: namespace,
  });
  const namespaceIdentity =
    namespaceObject && kubernetesIdentity(namespaceObject, name);
  options.guardRails.checkNamespace(
    namespace,
    namespaceIdentity?.kind ?? 'absent',
  );
  await readDatabaseSecret(kube, options.databaseSecret);
  for (const objectName of options.secretNames) {
    const secret = await kube.read<V1Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      name: objectName,
      namespace,
    });
    const identity = secret && kubernetesIdentity(secret, name);
    if (identity?.kind === 'foreign') {
      throw foreignObjectError(secret!, name);
    }
  }
  return { namespaceObject, namespaceIdentity };
}

/** The instance's namespace as the database step creates it, owner annotated. */
export function instanceNamespaceManifest(options: {
  namespace: string;
  labels: Record<string, string>;
  owner: string;
}): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: options.namespace,
      labels: options.labels,
      annotations: { [DEPLOYMENT_ANNOTATION_OWNER]: options.owner },
    },
  };
}
