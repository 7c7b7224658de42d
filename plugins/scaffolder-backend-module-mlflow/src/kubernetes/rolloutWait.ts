import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { MlflowKubernetesApi, refOf } from './kubernetesApi';
import { podProblems } from './podProblems';
import { StepWait } from './stepWait';
import { waitWatching } from './watchedWait';

/**
 * Waits, driven by a watch of the Deployment, until the controller has seen its current generation
 * and every wanted replica is updated, ready and available, with no extra replica left from the
 * previous rollout.
 */
export async function waitForRollout(options: {
  api: MlflowKubernetesApi;
  deployment: V1Deployment;
  wait: StepWait;
}) {
  const { api, deployment, wait } = options;
  const ref = refOf(deployment);
  const want = deployment.spec!.replicas!;
  const selector = Object.entries(deployment.spec!.selector.matchLabels!)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  await waitWatching({
    api,
    ref,
    wait,
    what: `Deployment ${ref.namespace}/${ref.name} to roll out ${want} ready replicas`,
    check: async () => {
      const current = await api.read<V1Deployment>(ref);
      const s = current?.status;
      const observed =
        (s?.observedGeneration ?? 0) >= (current?.metadata?.generation ?? 1);
      if (
        current &&
        observed &&
        s?.updatedReplicas === want &&
        s?.readyReplicas === want &&
        s?.availableReplicas === want &&
        (s?.replicas ?? want) === want
      ) {
        return { done: true, value: undefined };
      }
      const pods = await api.list<V1Pod>({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ref.namespace!,
        labelSelector: selector,
      });
      const problems = podProblems(pods);
      return {
        done: false,
        status: `${s?.updatedReplicas ?? 0}/${want} updated, ${
          s?.readyReplicas ?? 0
        }/${want} ready${
          problems.length > 0 ? `; ${problems.join('; ')}` : ''
        }`,
      };
    },
  });
}
