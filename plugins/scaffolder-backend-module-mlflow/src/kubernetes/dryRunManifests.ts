import { InputError } from '@backstage/errors';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describeRef, MlflowKubernetesApi, refOf } from './kubernetesApi';

/**
 * Where the namespaced objects of a namespace that does not exist yet are checked during dry-run:
 * the API server refuses anything in a missing namespace before validating it, and `default`
 * exists in every cluster.
 */
export const DRY_RUN_STAND_IN_NAMESPACE = 'default';

/** The cluster's verdict on one object. */
export type DryRunVerdict = {
  object: string;
  accepted: boolean;
  /** Why it was refused, or how it was checked. */
  detail?: string;
};

/**
 * Sends every object to the API server with dryRun=All and logs its verdict on each, so that its
 * own validation and admission run before anything is created. Objects of a namespace that does
 * not exist yet go to DRY_RUN_STAND_IN_NAMESPACE as new objects. Throws an InputError listing
 * every refused object.
 */
export async function dryRunManifests(options: {
  api: MlflowKubernetesApi;
  cluster: string;
  objects: KubernetesObject[];
  namespaceExists: boolean;
  log: (message: string) => void;
}): Promise<DryRunVerdict[]> {
  const { api, cluster, objects, namespaceExists, log } = options;
  const verdicts: DryRunVerdict[] = [];
  for (const object of objects) {
    const ref = refOf(object);
    const what = describeRef(ref);
    const standIn = !namespaceExists && ref.namespace !== undefined;
    try {
      let detail: string | undefined;
      if (standIn) {
        const result = await api.dryRunCreate({
          ...object,
          metadata: {
            ...object.metadata,
            namespace: DRY_RUN_STAND_IN_NAMESPACE,
          },
        });
        detail = `checked as a new object in namespace ${DRY_RUN_STAND_IN_NAMESPACE}, as ${
          ref.namespace
        } does not exist yet${
          result === 'nameTaken'
            ? `; an object of that name exists there, which is only looked for after the checks`
            : ''
        }`;
      } else {
        await api.apply(object, { dryRun: true });
      }
      verdicts.push({ object: what, accepted: true, detail });
      log(
        `Dry-run: the cluster accepts ${what}${detail ? ` (${detail})` : ''}`,
      );
    } catch (error) {
      if (!(error instanceof InputError)) {
        throw error;
      }
      verdicts.push({ object: what, accepted: false, detail: error.message });
      log(`Dry-run: the cluster refuses ${what}: ${error.message}`);
    }
  }
  const refused = verdicts.filter(v => !v.accepted);
  if (refused.length > 0) {
    throw new InputError(
      `Kubernetes cluster ${cluster} refused ${refused.length} of ${
        verdicts.length
      } objects in dry-run: ${refused
        .map(v => `${v.object} (${v.detail})`)
        .join('; ')}`,
    );
  }
  return verdicts;
}
