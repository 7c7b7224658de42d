import { KeyedConcurrencyLimiter } from './KeyedConcurrencyLimiter';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>(r => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('KeyedConcurrencyLimiter', () => {
  it('runs at most max tasks per key and starts waiting tasks in order', async () => {
    const limiter = new KeyedConcurrencyLimiter(2);
    const started: string[] = [];
    const gates = ['a1', 'a2', 'a3', 'a4', 'b1'].map(name => ({
      name,
      ...deferred(),
    }));
    const runs = gates.map(gate =>
      limiter.run(gate.name.slice(0, 1), async () => {
        started.push(gate.name);
        await gate.promise;
        return gate.name;
      }),
    );
    await new Promise(r => setImmediate(r));
    expect(started).toEqual(['a1', 'a2', 'b1']);

    gates[1].resolve();
    await new Promise(r => setImmediate(r));
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);

    gates.forEach(gate => gate.resolve());
    await expect(Promise.all(runs)).resolves.toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
      'b1',
    ]);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new KeyedConcurrencyLimiter(1);
    await expect(
      limiter.run('a', () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    await expect(limiter.run('a', async () => 'next')).resolves.toBe('next');
  });
});
