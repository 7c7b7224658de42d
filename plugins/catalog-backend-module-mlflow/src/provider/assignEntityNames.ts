import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import { createHash } from 'node:crypto';
import { MlflowInstance } from './readMlflowInstance';

// The longest Resource suffix (`-artifacts`) must still fit the 63-character entity name limit.
const MAX_BASE_LENGTH = 63 - '-artifacts'.length;

function usable(name: string): boolean {
  return (
    name.length <= MAX_BASE_LENGTH &&
    KubernetesValidatorFunctions.isValidObjectName(name)
  );
}

function hashed(instance: MlflowInstance): string {
  const hash = createHash('sha256')
    .update(
      `${instance.cluster}/${instance.namespace}/${instance.deploymentName}`,
    )
    .digest('hex')
    .slice(0, 8);
  const stem = instance.instanceName
    .slice(0, MAX_BASE_LENGTH - 9)
    .replace(/[^a-zA-Z0-9]+$/, '');
  return stem ? `${stem}-${hash}` : `mlflow-${hash}`;
}

/**
 * Gives every instance an entity name unique in its catalog namespace. Verified instances come
 * first, so an unsigned Deployment never takes a signed one's name; then the oldest Deployment
 * with an instance name keeps it as is (so adding an instance elsewhere never renames an existing
 * entity); a later one with the same name gets `-<namespace>`, then `-<namespace>-<cluster>`; a
 * name that is still taken or not a valid entity name gets a short hash of cluster, namespace and
 * Deployment instead.
 */
export function assignEntityNames(
  instances: MlflowInstance[],
): Map<MlflowInstance, string> {
  const ordered = [...instances].sort(
    (a, b) =>
      Number(a.trust !== 'verified') - Number(b.trust !== 'verified') ||
      (a.createdAt ?? '').localeCompare(b.createdAt ?? '') ||
      a.cluster.localeCompare(b.cluster) ||
      a.namespace.localeCompare(b.namespace) ||
      a.deploymentName.localeCompare(b.deploymentName),
  );
  const taken = new Set<string>();
  const names = new Map<MlflowInstance, string>();
  for (const instance of ordered) {
    const candidates = [
      instance.instanceName,
      `${instance.instanceName}-${instance.namespace}`,
      `${instance.instanceName}-${instance.namespace}-${instance.cluster}`,
    ];
    const key = (name: string) =>
      `${instance.entityNamespace}/${name.toLowerCase()}`;
    const name =
      candidates.find(c => usable(c) && !taken.has(key(c))) ?? hashed(instance);
    taken.add(key(name));
    names.set(instance, name);
  }
  return names;
}
