import { InputError } from '@backstage/errors';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  DEPLOYMENT_ANNOTATION_OWNER,
  LABEL_APP_INSTANCE,
  LABEL_APP_MANAGED_BY,
  MANAGED_BY_STATEFUL_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import { ExistingResource } from '../authorization/authorizeRun';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';
import { describeRef, MlflowKubernetesApi, refOf } from './kubernetesApi';

/** What the cluster already holds of an instance, read before anything is sent to it. */
export type ClusterState = {
  /** The namespace exists (ours, or an adoptable one). */
  namespaceExists: boolean;
  /** An existing namespace without this instance's identity is used as it is (adoptable). */
  namespaceAdopted: boolean;
  /** The database Secret is absent (or the namespace is). */
  databaseSecretMissing: boolean;
  /** The image of the server the instance's Deployment runs, when it exists. */
  runningImage?: string;
  /** The instance's objects that exist, with the owner each records, for the authorization. */
  existing: ExistingResource[];
};

/**
 * Whether an object carries the identity of instance `name`: written by these actions (managed-by)
 * for this instance (instance label).
 */
export function kubernetesIdentity(
  object: KubernetesObject,
  name: string,
): { kind: 'ours'; owner?: string } | { kind: 'foreign' } {
  const labels = object.metadata?.labels ?? {};
  if (
    labels[LABEL_APP_MANAGED_BY] !== MANAGED_BY_STATEFUL_MLFLOW ||
    labels[LABEL_APP_INSTANCE] !== name
  ) {
    return { kind: 'foreign' };
  }
  const owner = object.metadata?.annotations?.[DEPLOYMENT_ANNOTATION_OWNER];
  return owner ? { kind: 'ours', owner } : { kind: 'ours' };
}

/** The refusal of an object that exists but is not instance `name`'s. */
export function foreignObjectError(
  object: KubernetesObject,
  name: string,
): InputError {
  const labels = object.metadata?.labels ?? {};
  return new InputError(
    `${describeRef(
      refOf(object),
    )} already exists and was not created for MLflow instance "${name}" (labels ${LABEL_APP_MANAGED_BY}=${
      labels[LABEL_APP_MANAGED_BY] ?? 'unset'
    }, ${LABEL_APP_INSTANCE}=${
      labels[LABEL_APP_INSTANCE] ?? 'unset'
    }). It is not taken over: choose another instance name or namespace than "${name}".`,
  );
}

/**
 * Reads the namespace and every object of the instance; refuses a namespace the guard rails do
 * not allow and any object that exists without this instance's identity, so nothing is taken
 * over. Read-only.
 */
export async function readClusterState(options: {
  api: MlflowKubernetesApi;
  name: string;
  namespace: string;
  objects: KubernetesObject[];
  guardRails: ProvisioningGuardRails;
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
  const namespaceIdentity =
    existingNamespace && kubernetesIdentity(existingNamespace, name);
  options.guardRails.checkNamespace(
    namespace,
    namespaceIdentity ? namespaceIdentity.kind : 'absent',
  );
  const adopted = namespaceIdentity?.kind === 'foreign';
  if (adopted) {
    options.log(
      `Using the existing namespace ${namespace} as it is (adoptable by the operator's configuration)`,
    );
  }
  if (!existingNamespace) {
    return {
      namespaceExists: false,
      namespaceAdopted: false,
      databaseSecretMissing: options.databaseSecretName !== undefined,
      existing: [],
    };
  }
  const existing: ExistingResource[] =
    namespaceIdentity?.kind === 'ours'
      ? [{ resource: `namespace ${namespace}`, owner: namespaceIdentity.owner }]
      : [];
  let runningImage: string | undefined;
  for (const object of objects) {
    if (object.kind === 'Namespace') {
      continue;
    }
    const ref = refOf(object);
    const found = await api.read(ref);
    if (!found) {
      continue;
    }
    if (object.kind === 'Deployment') {
      const containers =
        (found as V1Deployment).spec?.template?.spec?.containers ?? [];
      runningImage = (
        containers.find(c => c.name === 'mlflow') ?? containers[0]
      )?.image;
    }
    const identity = kubernetesIdentity(found, name);
    if (identity.kind === 'foreign') {
      throw foreignObjectError(found, name);
    }
    existing.push({ resource: describeRef(ref), owner: identity.owner });
  }
  const secret =
    options.databaseSecretName &&
    (await api.read({
      apiVersion: 'v1',
      kind: 'Secret',
      name: options.databaseSecretName,
      namespace,
    }));
  if (secret && kubernetesIdentity(secret, name).kind === 'foreign') {
    throw foreignObjectError(secret, name);
  }
  return {
    namespaceExists: true,
    namespaceAdopted: adopted,
    databaseSecretMissing: options.databaseSecretName !== undefined && !secret,
    runningImage,
    existing,
  };
}

/**
 * What the plan needs before a template changes anything: whether the namespace may be used, and
 * the owner the namespace and the server Deployment record. Refuses them when foreign. Read-only.
 */
export async function readInstanceOwnership(options: {
  api: MlflowKubernetesApi;
  name: string;
  namespace: string;
  guardRails: ProvisioningGuardRails;
}): Promise<ExistingResource[]> {
  const { api, name, namespace } = options;
  const found = await api.read({
    apiVersion: 'v1',
    kind: 'Namespace',
    name: namespace,
  });
  const identity = found && kubernetesIdentity(found, name);
  options.guardRails.checkNamespace(
    namespace,
    identity ? identity.kind : 'absent',
  );
  if (!found) {
    return [];
  }
  const existing: ExistingResource[] =
    identity?.kind === 'ours'
      ? [{ resource: `namespace ${namespace}`, owner: identity.owner }]
      : [];
  const deployment = await api.read({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name,
    namespace,
  });
  if (deployment) {
    const deploymentIdentity = kubernetesIdentity(deployment, name);
    if (deploymentIdentity.kind === 'foreign') {
      throw foreignObjectError(deployment, name);
    }
    existing.push({
      resource: `Deployment ${namespace}/${name}`,
      owner: deploymentIdentity.owner,
    });
  }
  return existing;
}
