import { mockServices } from '@backstage/backend-test-utils';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { ObjectRef, WatchHandlers } from './kubernetesApi';
import { waitWatching } from './watchedWait';

const ref: ObjectRef = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  name: 'demo-db-upgrade-0123456789',
  namespace: 'mlflow-demo',
};

/** An API whose watch the test drives: it records each watch and whether it was stopped. */
function watchedApi() {
  const watches: Array<{ handlers: WatchHandlers; stopped: boolean }> = [];
  const api = Object.assign(new FakeKubernetesApi(), {
    watch(watched: ObjectRef, handlers: WatchHandlers) {
      expect(watched).toEqual(ref);
      const entry = { handlers, stopped: false };
      watches.push(entry);
      return () => {
        entry.stopped = true;
      };
    },
  });
  return { api, watches };
}

function stepWait(timeoutSeconds: number, pollIntervalMs = 60_000) {
  return {
    deadline: Date.now() + timeoutSeconds * 1000,
    pollIntervalMs,
    logger: mockServices.logger.mock(),
  };
}

describe('waitWatching', () => {
  afterEach(() => jest.useRealTimers());

  it('looks again as soon as the watch sees a change, not at the next poll', async () => {
    jest.useFakeTimers();
    const { api, watches } = watchedApi();
    let complete = false;
    let looks = 0;
    const done = waitWatching({
      api,
      ref,
      wait: stepWait(600),
      what: 'the Job to complete',
      check: async () => {
        looks++;
        return complete
          ? { done: true, value: 'complete' }
          : { done: false, status: 'active 1' };
      },
    });
    await jest.advanceTimersByTimeAsync(2_000);
    expect(looks).toBe(1);
    expect(watches).toHaveLength(1);

    complete = true;
    watches[0].handlers.onChange();
    await jest.advanceTimersByTimeAsync(0);
    await expect(done).resolves.toBe('complete');
    expect(looks).toBe(2);
    expect(watches[0].stopped).toBe(true);
  });

  it('takes a change that came while it was looking at the next look, at once', async () => {
    jest.useFakeTimers();
    const { api, watches } = watchedApi();
    let looks = 0;
    const done = waitWatching({
      api,
      ref,
      wait: stepWait(600),
      what: 'the Job to complete',
      check: async () => {
        looks++;
        if (looks === 1) {
          // The Job changes between this read and the wait for the next event.
          watches[0].handlers.onChange();
          return { done: false, status: 'active 1' };
        }
        return { done: true, value: looks };
      },
    });
    await jest.advanceTimersByTimeAsync(0);
    await expect(done).resolves.toBe(2);
  });

  it('reads again and watches again when the watch closes, and fails over to polls while watching fails', async () => {
    jest.useFakeTimers();
    const { api, watches } = watchedApi();
    let complete = false;
    let looks = 0;
    const wait = stepWait(600, 5_000);
    const done = waitWatching({
      api,
      ref,
      wait,
      what: 'the Job to complete',
      check: async () => {
        looks++;
        return complete
          ? { done: true, value: 'complete' }
          : { done: false, status: 'active 1' };
      },
    });
    await jest.advanceTimersByTimeAsync(0);
    expect(looks).toBe(1);

    // A clean close (the API server's watch timeout): the object is read again, the watch reopened.
    watches[0].handlers.onClose();
    await jest.advanceTimersByTimeAsync(0);
    expect(looks).toBe(2);
    expect(watches).toHaveLength(2);

    // A failed watch: read again now, watch again after the poll interval, one log line.
    watches[1].handlers.onClose(new Error('Forbidden'));
    await jest.advanceTimersByTimeAsync(0);
    expect(looks).toBe(3);
    expect(watches).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(watches).toHaveLength(3);
    watches[2].handlers.onClose(new Error('Forbidden'));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(watches).toHaveLength(4);
    expect(
      wait.logger.info.mock.calls.filter(([m]) => m.startsWith('Watching')),
    ).toEqual([
      [
        'Watching Job mlflow-demo/demo-db-upgrade-0123456789 failed (Forbidden); looking at it every poll interval until a watch works again',
      ],
    ]);

    complete = true;
    watches[3].handlers.onChange();
    await jest.advanceTimersByTimeAsync(0);
    await expect(done).resolves.toBe('complete');
    expect(watches[3].stopped).toBe(true);
  });

  it('prints a progress line at least every 15 s while nothing changes, and stops the watch at the timeout', async () => {
    jest.useFakeTimers();
    const { api, watches } = watchedApi();
    const wait = stepWait(40);
    const failure = waitWatching({
      api,
      ref,
      wait,
      what: 'the Job to complete',
      check: async () => ({ done: false, status: 'active 1' }),
    }).catch((error: Error) => error);
    await jest.advanceTimersByTimeAsync(41_000);
    expect(String(await failure)).toContain(
      'Timed out after 40s waiting for the Job to complete; last status: active 1',
    );
    const progress = wait.logger.info.mock.calls
      .map(([message]) => message)
      .filter(message => message.startsWith('Still waiting'));
    expect(progress).toEqual([
      'Still waiting for the Job to complete (15s of 40s): active 1',
      'Still waiting for the Job to complete (30s of 40s): active 1',
    ]);
    expect(watches.every(w => w.stopped)).toBe(true);
  });

  it('stops waiting and watching when the task is cancelled', async () => {
    const { api, watches } = watchedApi();
    const controller = new AbortController();
    const done = waitWatching({
      api,
      ref,
      wait: { ...stepWait(600), signal: controller.signal },
      what: 'the Job to complete',
      check: async () => ({ done: false, status: 'active 1' }),
    });
    await new Promise(resolve => setImmediate(resolve));
    controller.abort();
    await expect(done).rejects.toThrow(
      'Cancelled while waiting for the Job to complete',
    );
    expect(watches[0].stopped).toBe(true);
  });

  it('polls at the poll interval without a watch', async () => {
    jest.useFakeTimers();
    let looks = 0;
    const done = waitWatching({
      api: new FakeKubernetesApi(),
      ref,
      wait: stepWait(600, 2_000),
      what: 'the Job to complete',
      check: async () =>
        ++looks >= 3
          ? { done: true, value: looks }
          : { done: false, status: 'active 1' },
    });
    await jest.advanceTimersByTimeAsync(3_999);
    expect(looks).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    await expect(done).resolves.toBe(3);
  });
});
