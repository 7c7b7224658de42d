import { mockServices } from '@backstage/backend-test-utils';
import { isTransientError, waitFor } from './waitFor';

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

  it('polls again after a transient failure and stops at any other', async () => {
    let calls = 0;
    const logger = mockServices.logger.mock();
    await expect(
      waitFor({
        what: 'the thing',
        timeoutSeconds: 60,
        logger,
        pollIntervalMs: 1,
        check: async () => {
          calls++;
          if (calls === 1) {
            throw new TypeError('fetch failed', {
              cause: Object.assign(new Error('connect'), {
                code: 'ECONNREFUSED',
              }),
            });
          }
          return { done: true, value: 'ready' };
        },
      }),
    ).resolves.toBe('ready');
    expect(calls).toBe(2);

    await expect(
      waitFor({
        what: 'the thing',
        timeoutSeconds: 60,
        logger,
        pollIntervalMs: 1,
        check: async () => {
          throw new Error('The database migration Job failed');
        },
      }),
    ).rejects.toThrow('The database migration Job failed');
  });

  it('tells transient failures from final ones', () => {
    expect(
      isTransientError(
        Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }),
      ),
    ).toBe(true);
    expect(
      isTransientError(
        Object.assign(new Error('x'), { name: 'ThrottlingException' }),
      ),
    ).toBe(true);
    expect(
      isTransientError(
        Object.assign(new Error('x'), { $metadata: { httpStatusCode: 403 } }),
      ),
    ).toBe(false);
    expect(isTransientError(new Error('Job failed'))).toBe(false);
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
