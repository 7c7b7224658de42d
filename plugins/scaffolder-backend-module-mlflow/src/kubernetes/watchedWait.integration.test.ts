import { mockServices } from '@backstage/backend-test-utils';
import type { V1Job } from '@kubernetes/client-node';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { loadStack, uniqueSuffix } from '../__testUtils__/stack';
import {
  kubernetesApiFromClusters,
  MlflowKubernetesApi,
  ObjectRef,
} from './kubernetesApi';
import { waitWatching, WATCHED_WAIT_PROGRESS_MS } from './watchedWait';

jest.setTimeout(180_000);

const MARK = 'stateful-mlflow.test/mark';

describe('waitWatching on the local stack', () => {
  let kube: MlflowKubernetesApi;
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `ww-${uniqueSuffix()}`, namespace: 'default' },
    spec: {
      // Suspended: no pod ever runs, the test only changes the Job's annotations.
      suspend: true,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'noop',
              image: 'ghcr.io/acme/mlflow-server:3.17.2',
              command: ['mlflow', '--version'],
            },
          ],
        },
      },
    },
  };
  const ref: ObjectRef = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata!.name!,
    namespace: 'default',
  };

  beforeAll(async () => {
    kube = kubernetesApiFromClusters(
      MlflowClusters.fromConfig(loadStack().config),
    )('local');
    await kube.apply(job, { dryRun: false });
  });

  afterAll(async () => {
    await kube?.delete(ref, { propagationPolicy: 'Background' });
  });

  it('looks again within moments of a change, also after the API server closed the watch and it was opened again', async () => {
    const opened: number[] = [];
    const counted: MlflowKubernetesApi = {
      ...kube,
      watch: (watched, handlers) => {
        opened.push(Date.now());
        return kube.watch!(watched, handlers);
      },
    };
    const logger = mockServices.logger.mock();
    /** When the wait last looked and found no mark, and who wants to hear of its next look. */
    const looked: { at: number; next?: () => void } = { at: 0 };
    const done = waitWatching({
      api: counted,
      ref,
      // No poll would come in time: only the watch can end this wait quickly.
      wait: { deadline: Date.now() + 150_000, pollIntervalMs: 600_000, logger },
      what: `Job default/${ref.name} to be marked`,
      check: async () => {
        const current = await kube.read<V1Job>(ref);
        if (current?.metadata?.annotations?.[MARK] === 'go') {
          return { done: true, value: Date.now() };
        }
        looked.at = Date.now();
        looked.next?.();
        return { done: false, status: 'not marked' };
      },
    });

    // The API server ends each watch after 25 s; wait until the wait has watched a second time.
    while (opened.length < 2) {
      await new Promise(resolve => setTimeout(resolve, 500));
    }
    // Then mark right after a look: the periodic look comes 15 s after the last one at the
    // earliest, so a look that sees the mark before then was woken by the watch.
    await new Promise<void>(resolve => {
      looked.next = resolve;
    });
    looked.next = undefined;
    const lastLook = looked.at;
    await kube.apply(
      {
        ...job,
        metadata: { ...job.metadata, annotations: { [MARK]: 'go' } },
      },
      { dryRun: false },
    );
    const seen = await done;
    expect(seen - lastLook).toBeLessThan(WATCHED_WAIT_PROGRESS_MS);
    expect(
      logger.info.mock.calls.filter(([m]) => m.startsWith('Watching')),
    ).toEqual([]);
  });
});
