import {
  CallAbandonedError,
  StepDeadline,
  untilAbandoned,
} from './stepDeadline';

const never = () => new Promise<never>(() => undefined);

describe('StepDeadline', () => {
  it('gives each call its own timeout, never past the step deadline', () => {
    const roomy = new StepDeadline({ timeoutSeconds: 600, callTimeoutMs: 500 });
    expect(roomy.nextCall().timeoutMs).toBe(500);
    const tight = new StepDeadline({
      timeoutSeconds: 1,
      callTimeoutMs: 60_000,
    });
    expect(tight.nextCall().timeoutMs).toBeLessThanOrEqual(1000);
    expect(tight.nextCall().timeoutMs).toBeGreaterThan(0);
  });

  it('abandons a call that never settles at its timeout, as a timeout', async () => {
    const deadline = new StepDeadline({
      timeoutSeconds: 60,
      callTimeoutMs: 200,
    });
    const started = Date.now();
    const error = await untilAbandoned(
      never(),
      deadline.nextCall(),
      'AWS rds:DescribeDBInstances on RDS instance "x"',
    ).catch(e => e);
    expect(error).toBeInstanceOf(CallAbandonedError);
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe(
      'AWS rds:DescribeDBInstances on RDS instance "x" did not answer within 1s and was abandoned; check that the service is reachable and healthy, or raise timeoutSeconds, then run the task again',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('abandons a call when the task is cancelled, as a cancellation', async () => {
    const controller = new AbortController();
    const deadline = new StepDeadline({
      timeoutSeconds: 60,
      signal: controller.signal,
    });
    const pending = untilAbandoned(never(), deadline.nextCall(), 'the call');
    controller.abort();
    const error = await pending.catch(e => e);
    expect(error.code).toBe('ECANCELED');
    expect(error.message).toBe(
      'Cancelled: the call was abandoned because the task was cancelled',
    );
  });

  it('refuses to start a call once the task is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const deadline = new StepDeadline({
      timeoutSeconds: 60,
      signal: controller.signal,
    });
    await expect(
      untilAbandoned(Promise.resolve('late'), deadline.nextCall(), 'the call'),
    ).rejects.toThrow(/^Cancelled: the call/);
  });

  it('passes through what the call settles with in time', async () => {
    const deadline = new StepDeadline({ timeoutSeconds: 60 });
    await expect(
      untilAbandoned(Promise.resolve('answer'), deadline.nextCall(), 'x'),
    ).resolves.toBe('answer');
    await expect(
      untilAbandoned(
        Promise.reject(new Error('refused')),
        deadline.nextCall(),
        'x',
      ),
    ).rejects.toThrow('refused');
  });
});
