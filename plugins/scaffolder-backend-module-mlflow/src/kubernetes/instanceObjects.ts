import type { KubernetesObject } from '@kubernetes/client-node';
import { LoggerService } from '@backstage/backend-plugin-api';
import {
  LABEL_APP_INSTANCE,
  LABEL_APP_MANAGED_BY,
  MANAGED_BY_STATEFUL_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import { ExistingResource } from '../authorization/authorizeRun';
import { waitFor } from '../util/waitFor';
import { kubernetesIdentity } from './clusterState';
import {
  describeRef,
  MlflowKubernetesApi,
  ObjectRef,
  refOf,
} from './kubernetesApi';

/**
 * The kinds the actions write into an instance's namespace, the Deployment first so the server
 * stops before anything it uses goes away.
 */
export const INSTANCE_OBJECT_KINDS: Array<{
  apiVersion: string;
  kind: string;
}> = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'Secret' },
];

/** What the cluster holds of an instance: its namespace (when ours) and its labelled objects. */
export type InstanceObjects = {
  /** The namespace exists and carries the instance's identity: deleting it takes everything. */
  namespaceOurs: boolean;
  /** The namespace exists without the instance's identity (adopted): it stays. */
  namespaceForeign: boolean;
  /** Objects labelled for the instance (managed-by and instance labels), Deployment first. */
  objects: ObjectRef[];
  /** For the authorization: each object with the owner it records. */
  existing: ExistingResource[];
};

/** The label selector of everything the actions wrote for instance `name`. */
export function instanceSelector(name: string): string {
  return `${LABEL_APP_MANAGED_BY}=${MANAGED_BY_STATEFUL_MLFLOW},${LABEL_APP_INSTANCE}=${name}`;
}

/** Reads the instance's namespace and every object labelled for it. Read-only. */
export async function readInstanceObjects(options: {
  api: MlflowKubernetesApi;
  name: string;
  namespace: string;
}): Promise<InstanceObjects> {
  const { api, name, namespace } = options;
  const found = await api.read({
    apiVersion: 'v1',
    kind: 'Namespace',
    name: namespace,
  });
  const identity = found && kubernetesIdentity(found, name);
  const state: InstanceObjects = {
    namespaceOurs: identity?.kind === 'ours',
    namespaceForeign: identity?.kind === 'foreign',
    objects: [],
    existing:
      identity?.kind === 'ours'
        ? [{ resource: `namespace ${namespace}`, owner: identity.owner }]
        : [],
  };
  if (!found) {
    return state;
  }
  for (const { apiVersion, kind } of INSTANCE_OBJECT_KINDS) {
    const items = await api.list<KubernetesObject>({
      apiVersion,
      kind,
      namespace,
      labelSelector: instanceSelector(name),
    });
    for (const item of items) {
      // The selector asked for these labels; checked again so nothing else is ever deleted.
      const itemIdentity = kubernetesIdentity(item, name);
      if (itemIdentity.kind !== 'ours') {
        continue;
      }
      const ref = { ...refOf(item), apiVersion, kind };
      state.objects.push(ref);
      state.existing.push({
        resource: describeRef(ref),
        owner: itemIdentity.owner,
      });
    }
  }
  return state;
}

/**
 * Polls until none of `objects` (and the namespace, when it is being deleted) exists any more,
 * with progress lines, bounded and stopped on cancel.
 */
export function waitForObjectsGone(options: {
  api: MlflowKubernetesApi;
  objects: ObjectRef[];
  namespace?: string;
  timeoutSeconds: number;
  logger: LoggerService;
  signal?: AbortSignal;
  pollIntervalMs: number;
}): Promise<void> {
  const { api } = options;
  const refs: ObjectRef[] = [
    ...options.objects,
    ...(options.namespace
      ? [{ apiVersion: 'v1', kind: 'Namespace', name: options.namespace }]
      : []),
  ];
  return waitFor({
    what: `${refs.length} Kubernetes object(s) to be gone`,
    timeoutSeconds: options.timeoutSeconds,
    logger: options.logger,
    signal: options.signal,
    pollIntervalMs: options.pollIntervalMs,
    check: async () => {
      const left: string[] = [];
      for (const ref of refs) {
        if (await api.read(ref)) {
          left.push(describeRef(ref));
        }
      }
      return left.length === 0
        ? { done: true, value: undefined }
        : { done: false, status: `still there: ${left.join(', ')}` };
    },
  });
}
