import type { V1Deployment } from '@kubernetes/client-node';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_MLFLOW_KUBERNETES_CLUSTER,
  LABEL_APP_INSTANCE,
  MlflowKubernetesDetails,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { workloadIdentityMismatch } from '../instanceIdentity';
import {
  KubernetesWorkloadReader,
  MlflowWorkload,
} from '../kubernetesWorkloads';
import {
  CheckOutcome,
  HealthCheck,
  messageOf,
  missingAnnotation,
} from './types';

function detailsOf(
  cluster: string,
  namespace: string,
  deployment: V1Deployment,
): MlflowKubernetesDetails {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  const server = containers.find(c => c.name === 'mlflow') ?? containers[0];
  return {
    cluster,
    namespace,
    deployment: deployment.metadata?.name ?? '',
    replicas: {
      desired: deployment.spec?.replicas ?? 1,
      ready: deployment.status?.readyReplicas ?? 0,
      updated: deployment.status?.updatedReplicas ?? 0,
      available: deployment.status?.availableReplicas ?? 0,
    },
    image: server?.image,
    conditions: (deployment.status?.conditions ?? []).map(c => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
    })),
  };
}

/**
 * Status of a Deployment from its replica counts and conditions. `unavailable` counts pods of a
 * rollout that are not available yet: a rollout that surged a pod which never becomes ready keeps
 * the old replicas ready and would otherwise look complete.
 */
function deploymentOutcome(
  details: MlflowKubernetesDetails,
  unavailable: number,
): Pick<CheckOutcome<'kubernetes'>, 'status' | 'summary'> {
  const { desired, ready, updated, available } = details.replicas;
  const name = `Deployment ${details.namespace}/${details.deployment}`;
  const condition = (type: string) =>
    details.conditions.find(c => c.type === type);
  if (desired === 0) {
    return { status: 'warning', summary: `${name} is scaled to zero.` };
  }
  if (available === 0 || ready === 0) {
    return {
      status: 'error',
      summary: `${name} has no ready replica (0 of ${desired}).`,
    };
  }
  const problems: string[] = [];
  if (ready < desired || available < desired) {
    problems.push(`${Math.min(ready, available)} of ${desired} replicas ready`);
  }
  if (updated < desired) {
    problems.push(`${updated} of ${desired} replicas updated`);
  }
  if (unavailable > 0) {
    problems.push(`${unavailable} unavailable`);
  }
  const progressing = condition('Progressing');
  if (progressing?.status === 'False') {
    problems.push(`rollout stalled (${progressing.reason ?? 'no reason'})`);
  }
  const replicaFailure = condition('ReplicaFailure');
  if (replicaFailure?.status === 'True') {
    problems.push(`replica failure (${replicaFailure.reason ?? 'no reason'})`);
  }
  if (problems.length > 0) {
    return { status: 'warning', summary: `${name}: ${problems.join('; ')}.` };
  }
  return {
    status: 'ok',
    summary: `${name}: ${ready} of ${desired} replicas ready.`,
  };
}

export type KubernetesCheckOptions = {
  /** Throws an InputError naming the configured clusters when `cluster` is not one of them. */
  assertCluster: (cluster: string) => void;
  workloads: KubernetesWorkloadReader;
};

/**
 * The tracking server's Deployment (by the standard labels) and the host of its Ingress; objects
 * whose labels or owner annotation name another instance are refused, not described.
 */
export function createKubernetesCheck(
  options: KubernetesCheckOptions,
): HealthCheck<'kubernetes'> {
  const { assertCluster, workloads } = options;
  return {
    id: 'kubernetes',
    async run({ info, identity, log }): Promise<CheckOutcome<'kubernetes'>> {
      if (!info.kubernetesCluster) {
        return missingAnnotation(ANNOTATION_MLFLOW_KUBERNETES_CLUSTER);
      }
      if (!info.kubernetesNamespace) {
        return missingAnnotation(ANNOTATION_KUBERNETES_NAMESPACE);
      }
      if (!info.kubernetesId) {
        return missingAnnotation(ANNOTATION_KUBERNETES_ID);
      }
      let namespace: string;
      let instance: string;
      try {
        namespace = validateName(
          nameRules.kubernetesName,
          ANNOTATION_KUBERNETES_NAMESPACE,
          info.kubernetesNamespace,
        );
        instance = validateName(
          nameRules.kubernetesName,
          ANNOTATION_KUBERNETES_ID,
          info.kubernetesId,
        );
        assertCluster(info.kubernetesCluster);
      } catch (error) {
        return {
          status: 'unknown',
          summary: `Not checked: ${messageOf(error)}`,
        };
      }
      const cluster = info.kubernetesCluster;

      let workload: MlflowWorkload;
      try {
        workload = await workloads.get(cluster, { namespace, instance });
      } catch (error) {
        log(
          `listing Deployments in ${cluster}/${namespace}: ${messageOf(error)}`,
        );
        return {
          status: 'error',
          summary: `Could not read Deployments in ${cluster}/${namespace}; the Kubernetes error is in the backend log.`,
        };
      }
      const labelled = [...workload.deployments].sort((a, b) =>
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
      );
      if (labelled.length === 0) {
        return {
          status: 'error',
          summary: `No Deployment labelled ${LABEL_APP_INSTANCE}=${instance} in ${cluster}/${namespace}.`,
        };
      }
      const whose = (metadata: V1Deployment['metadata']) =>
        identity ? workloadIdentityMismatch(metadata, identity) : undefined;
      const deployment = labelled.find(d => !whose(d.metadata));
      if (!deployment) {
        return {
          status: 'error',
          summary: `Deployment ${namespace}/${
            labelled[0].metadata?.name ?? ''
          } is not this instance's (${whose(
            labelled[0].metadata,
          )}); it is not described.`,
        };
      }
      const details = detailsOf(cluster, namespace, deployment);
      if (workload.ingresses) {
        details.ingressHost = workload.ingresses
          .filter(i => !whose(i.metadata))
          .flatMap(i => i.spec?.rules ?? [])
          .find(rule => rule.host)?.host;
      }
      return {
        ...deploymentOutcome(
          details,
          deployment.status?.unavailableReplicas ?? 0,
        ),
        details,
      };
    },
  };
}
