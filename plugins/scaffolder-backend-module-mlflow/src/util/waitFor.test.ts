import { mockServices } from '@backstage/backend-test-utils';
import { waitFor } from './waitFor';

describe('waitFor', () => {
  afterEach(() => jest.useRealTimers());

  it('logs a progress line at least every 30 seconds while waiting', async () => {
    jest.useFakeTimers();
    const logger = mockServices.logger.mock();
    let checks = 0;
    const done = waitFor({
      what: 'the thing',
      timeoutSeconds: 600,
      logger,
      pollIntervalMs: 10_000,
      check: async () =>
        ++checks > 10
          ? { done: true, value: 'ready' }
          : { done: false, status: `check ${checks}` },
    });
    await jest.advanceTimersByTimeAsync(101_000);
    await expect(done).resolves.toBe('ready');
    const progress = logger.info.mock.calls
      .map(([message]) => message)
      .filter(message => message.startsWith('Still waiting for the thing'));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]).toMatch(/\(30s of 600s\): check 4/);
  });

  it('fails after the timeout with the last status', async () => {
    jest.useFakeTimers();
    const done = waitFor({
      what: 'the thing',
      timeoutSeconds: 5,
      logger: mockServices.logger.mock(),
      pollIntervalMs: 1_000,
      check: async () => ({ done: false, status: 'creating' }),
    });
    const failure = done.catch((error: Error) => error);
    await jest.advanceTimersByTimeAsync(6_000);
    expect(String(await failure)).toMatch(
      'Timed out after 5s waiting for the thing; last status: creating',
    );
  });

  it('stops promptly when the task is cancelled', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const done = waitFor({
      what: 'the thing',
      timeoutSeconds: 600,
      logger: mockServices.logger.mock(),
      signal: controller.signal,
      pollIntervalMs: 60_000,
      check: async () => ({ done: false, status: 'creating' }),
    });
    setTimeout(() => controller.abort(), 50);
    await expect(done).rejects.toThrow('Cancelled while waiting for the thing');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
