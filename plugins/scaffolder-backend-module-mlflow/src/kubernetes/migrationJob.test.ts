import { mockServices } from '@backstage/backend-test-utils';
import type { V1Job } from '@kubernetes/client-node';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import type { ObjectRef, WatchHandlers } from './kubernetesApi';
import { IMAGE_HINT, runMigrationJob } from './migrationJob';

const job: V1Job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'demo-db-upgrade-0123456789', namespace: 'mlflow-demo' },
  spec: { template: { spec: { containers: [] } } },
};
const key = 'Job/mlflow-demo/demo-db-upgrade-0123456789';

function wait(timeoutSeconds = 5) {
  return {
    deadline: Date.now() + timeoutSeconds * 1000,
    pollIntervalMs: 1,
    logger: mockServices.logger.mock(),
  };
}

describe('runMigrationJob', () => {
  it('creates the Job and waits until it succeeded', async () => {
    const cluster = new FakeKubernetesApi();
    await runMigrationJob({
      api: cluster,
      job,
      cluster: 'local',
      wait: wait(),
    });
    expect((cluster.objects.get(key) as V1Job).status?.succeeded).toBe(1);
    expect(cluster.deleted).toEqual([]);
  });

  it("ends the wait as soon as the Job's pod has succeeded, before the Job controller counts it, watching the Job and its pods", async () => {
    const watched: Array<{ ref: ObjectRef; labelSelector?: string }> = [];
    const cluster = Object.assign(new FakeKubernetesApi(), {
      watch(
        ref: ObjectRef,
        _handlers: WatchHandlers,
        options?: { labelSelector?: string },
      ) {
        watched.push({ ref, labelSelector: options?.labelSelector });
        return () => {};
      },
    });
    cluster.jobOutcome = 'podSucceeded';
    await runMigrationJob({
      api: cluster,
      job,
      cluster: 'local',
      wait: wait(),
    });
    expect((cluster.objects.get(key) as V1Job).status).toEqual({ active: 1 });
    const uid = cluster.objects.get(key)!.metadata!.uid;
    expect(watched).toEqual([
      {
        ref: {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: 'demo-db-upgrade-0123456789',
          namespace: 'mlflow-demo',
        },
      },
      {
        ref: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: '',
          namespace: 'mlflow-demo',
        },
        labelSelector: `batch.kubernetes.io/controller-uid=${uid}`,
      },
    ]);
  });

  it('fails with the pod output and the image hint when the Job fails', async () => {
    const cluster = new FakeKubernetesApi();
    cluster.jobOutcome = 'fail';
    const error = await runMigrationJob({
      api: cluster,
      job,
      cluster: 'local',
      wait: wait(),
    }).catch(e => e);
    expect(error.message).toContain(
      'The database migration Job mlflow-demo/demo-db-upgrade-0123456789 failed (BackoffLimitExceeded: Job has reached the specified backoff limit). Pods: demo-db-upgrade-0123456789-abcde: exited with 1: ModuleNotFoundError',
    );
    expect(error.message).toContain(IMAGE_HINT);
  });

  it('deletes a failed Job of the same name with its pods, creates it again and waits for the new one', async () => {
    const cluster = new FakeKubernetesApi();
    cluster.jobOutcome = 'fail';
    await expect(
      runMigrationJob({ api: cluster, job, cluster: 'local', wait: wait() }),
    ).rejects.toThrow(/failed/);
    const failedUid = cluster.objects.get(key)!.metadata!.uid;
    expect(cluster.pods).toHaveLength(1);

    cluster.jobOutcome = 'succeed';
    await runMigrationJob({
      api: cluster,
      job,
      cluster: 'local',
      wait: wait(),
    });
    expect(cluster.deleted).toEqual([{ key, propagationPolicy: 'Foreground' }]);
    const replaced = cluster.objects.get(key) as V1Job;
    expect(replaced.metadata!.uid).not.toBe(failedUid);
    expect(replaced.status?.succeeded).toBe(1);
    expect(cluster.pods).toEqual([]);
  });

  it('leaves a Job that succeeded alone', async () => {
    const cluster = new FakeKubernetesApi();
    await runMigrationJob({
      api: cluster,
      job,
      cluster: 'local',
      wait: wait(),
    });
    const uid = cluster.objects.get(key)!.metadata!.uid;
    cluster.jobOutcome = 'fail';
    await runMigrationJob({
      api: cluster,
      job,
      cluster: 'local',
      wait: wait(),
    });
    expect(cluster.objects.get(key)!.metadata!.uid).toBe(uid);
    expect(cluster.deleted).toEqual([]);
  });

  it('times out on a Job that never finishes, with its status', async () => {
    const cluster = new FakeKubernetesApi();
    cluster.jobOutcome = 'hang';
    await expect(
      runMigrationJob({ api: cluster, job, cluster: 'local', wait: wait(1) }),
    ).rejects.toThrow(
      /Timed out after 1s waiting for the database migration Job .*active 1, failed 0/,
    );
  });
});
