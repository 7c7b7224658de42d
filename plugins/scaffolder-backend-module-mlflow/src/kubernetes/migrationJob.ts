import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describeRef, MlflowKubernetesApi, refOf } from './kubernetesApi';
import { podProblems } from './podProblems';
import { StepWait } from './stepWait';
import { waitWatching } from './watchedWait';

/** The hint every failed migration carries: the most common cause by far. */
export const IMAGE_HINT =
  "The image must contain psycopg2 and boto3 (the plain upstream MLflow image lacks them; with SQLAlchemy 2.1 or later postgresql:// URIs use psycopg 3, so add it too): build one FROM it with `pip install psycopg2-binary 'psycopg[binary]' boto3`.";

/** Label the Job controller puts on the pods of one Job (by its uid, so a replaced Job's old pods never count). */
const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';

function failedCondition(job: V1Job | undefined) {
  return job?.status?.conditions?.find(
    c => c.type === 'Failed' && c.status === 'True',
  );
}

/**
 * Runs the migration Job to completion, its waits driven by a watch of the Job. Its name is a hash
 * of its pod template, so a failed Job of that name stays (24 h) after a failure whose cause is
 * outside the template (the database, its Secret): it is deleted with its pods and created again,
 * so a rerun after the fix converges.
 */
export async function runMigrationJob(options: {
  api: MlflowKubernetesApi;
  job: V1Job;
  cluster: string;
  wait: StepWait;
}): Promise<void> {
  const { api, job, cluster, wait } = options;
  const ref = refOf(job);
  const existing = await api.read<V1Job>(ref);
  const failed = failedCondition(existing);
  if (existing && (failed || existing.metadata?.deletionTimestamp)) {
    wait.logger.info(
      `${describeRef(ref)} ${
        failed
          ? `failed in an earlier run (${failed.reason ?? 'Failed'})`
          : 'is being deleted'
      }; replacing it: deleting it and its pods, then creating it again`,
    );
    await api.delete(ref, { propagationPolicy: 'Foreground' });
    await waitWatching({
      api,
      ref,
      wait,
      what: `${describeRef(ref)} and its pods to be deleted`,
      check: async () =>
        (await api.read<V1Job>(ref))?.metadata?.uid === existing.metadata?.uid
          ? { done: false, status: 'still there' }
          : { done: true, value: undefined },
    });
  }
  wait.logger.info(`Applying ${describeRef(ref)} on cluster ${cluster}`);
  const applied = await api.apply(job, { dryRun: false });
  await waitForJob(api, ref, applied.metadata?.uid, wait);
}

/**
 * Done when the Job counts a success, or as soon as one of its pods has succeeded (every container
 * exited 0, never restarted: restartPolicy Never): the Job controller counts it a moment later.
 * Its pods are watched beside the Job for that reason.
 */
async function waitForJob(
  api: MlflowKubernetesApi,
  ref: ReturnType<typeof refOf>,
  uid: string | undefined,
  wait: StepWait,
) {
  await waitWatching({
    api,
    ref,
    also: uid
      ? [
          {
            ref: {
              apiVersion: 'v1',
              kind: 'Pod',
              name: '',
              namespace: ref.namespace,
            },
            labelSelector: `${JOB_CONTROLLER_UID_LABEL}=${uid}`,
          },
        ]
      : [],
    wait,
    what: `the database migration Job ${ref.name} (mlflow db upgrade) to complete`,
    check: async () => {
      const current = await api.read<V1Job>(ref);
      if (!current) {
        throw new Error(
          `The database migration Job ${ref.namespace}/${ref.name} disappeared while it ran (deleted by someone else?); run the task again.`,
        );
      }
      const status = current.status;
      if ((status?.succeeded ?? 0) > 0) {
        return { done: true, value: undefined };
      }
      const pods = await api.list<V1Pod>({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ref.namespace!,
        labelSelector: `${JOB_CONTROLLER_UID_LABEL}=${current.metadata?.uid}`,
      });
      if (pods.some(pod => pod.status?.phase === 'Succeeded')) {
        return { done: true, value: undefined };
      }
      const problems = podProblems(pods);
      const failed = failedCondition(current);
      if (failed) {
        throw new Error(
          `The database migration Job ${ref.namespace}/${ref.name} failed (${
            failed.reason ?? 'Failed'
          }${failed.message ? `: ${failed.message}` : ''}). ${
            problems.length > 0 ? `Pods: ${problems.join('; ')}. ` : ''
          }${IMAGE_HINT} Running the task again replaces the failed Job.`,
        );
      }
      return {
        done: false,
        status: `active ${status?.active ?? 0}, failed ${status?.failed ?? 0}${
          problems.length > 0 ? `; ${problems.join('; ')}` : ''
        }`,
      };
    },
  });
}
