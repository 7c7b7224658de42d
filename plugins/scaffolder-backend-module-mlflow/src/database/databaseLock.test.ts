import { mockServices } from '@backstage/backend-test-utils';
import { FakeSqlClient } from '../__testUtils__/FakeSqlClient';
import { StepDeadline } from '../util/stepDeadline';
import {
  acquireInstanceLock,
  instanceLockKey,
  releaseInstanceLock,
} from './databaseLock';

describe('the instance lock', () => {
  const options = (timeoutSeconds = 60) => ({
    instance: 'demo',
    logger: mockServices.logger.mock(),
    deadline: new StepDeadline({ timeoutSeconds }),
    pollIntervalMs: 5,
  });

  it('has one key per instance, the same in every process, within PostgreSQL bigint', () => {
    expect(instanceLockKey('demo')).toBe(instanceLockKey('demo'));
    expect(instanceLockKey('demo')).not.toBe(instanceLockKey('demo-b'));
    expect(instanceLockKey('demo')).toBeGreaterThanOrEqual(0n);
    expect(instanceLockKey('demo')).toBeLessThan(2n ** 63n);
  });

  it('lets a second run in only after the first released it, saying what it waits for', async () => {
    const first = new FakeSqlClient();
    const second = new FakeSqlClient(first);
    await acquireInstanceLock(first, options());
    const waiting = options();
    let acquired = false;
    const pending = acquireInstanceLock(second, waiting).then(() => {
      acquired = true;
    });
    for (
      const until = Date.now() + 5_000;
      !waiting.logger.info.mock.calls.length;

    ) {
      expect(Date.now()).toBeLessThan(until);
      await new Promise(resolve => setTimeout(resolve, 5));
    }
    expect(waiting.logger.info.mock.calls[0][0]).toBe(
      'Another run is setting up the database of MLflow instance demo (held by PostgreSQL backend 4242 (fake)); one run per instance at a time, so this one waits for it',
    );
    expect(acquired).toBe(false);
    await releaseInstanceLock(first, 'demo');
    await pending;
    expect(first.advisoryLocks.get(instanceLockKey('demo').toString())).toBe(
      second,
    );
  });

  it('is released when the connection ends, so a crashed run leaves nothing behind', async () => {
    const first = new FakeSqlClient();
    await acquireInstanceLock(first, options());
    await first.end();
    const next = new FakeSqlClient(first);
    const waiting = options();
    await acquireInstanceLock(next, waiting);
    expect(waiting.logger.info).not.toHaveBeenCalled();
    expect(first.advisoryLocks.get(instanceLockKey('demo').toString())).toBe(
      next,
    );
  });

  it('refuses a second run after the step deadline, naming the holder', async () => {
    const first = new FakeSqlClient();
    await acquireInstanceLock(first, options());
    await expect(
      acquireInstanceLock(new FakeSqlClient(first), options(1)),
    ).rejects.toThrow(
      /^Timed out after 1s waiting for the other run for MLflow instance demo to release its database lock; last status: held by PostgreSQL backend 4242/,
    );
  });
});
