/** Runs at most `max` tasks at a time per key (a host, a cluster); the others wait in order. */
export class KeyedConcurrencyLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly max: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    await this.acquire(key);
    try {
      return await task();
    } finally {
      this.release(key);
    }
  }

  private acquire(key: string): Promise<void> {
    const active = this.active.get(key) ?? 0;
    if (active < this.max) {
      this.active.set(key, active + 1);
      return Promise.resolve();
    }
    return new Promise(resolve => {
      const queue = this.waiting.get(key) ?? [];
      queue.push(resolve);
      this.waiting.set(key, queue);
    });
  }

  private release(key: string) {
    const queue = this.waiting.get(key);
    const next = queue?.shift();
    if (next) {
      // The slot passes straight to the next task; the active count stays.
      if (queue!.length === 0) {
        this.waiting.delete(key);
      }
      next();
      return;
    }
    const active = (this.active.get(key) ?? 1) - 1;
    if (active === 0) {
      this.active.delete(key);
    } else {
      this.active.set(key, active);
    }
  }
}
