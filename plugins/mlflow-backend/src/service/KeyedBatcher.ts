type Waiter<V> = {
  resolve: (value: V) => void;
  reject: (error: unknown) => void;
};

type Group<G, K, V> = {
  group: G;
  keys: Map<string, { key: K; waiters: Array<Waiter<V>> }>;
};

/** How one batch is loaded: `load` answers every key of one group, `maxKeys` caps a call. */
export type KeyedBatcherOptions<G, K, V> = {
  groupId: (group: G) => string;
  keyId: (key: K) => string;
  /** Loads the keys of one group; the answer gives each key's value or throws that key's error. */
  load: (group: G, keys: K[]) => Promise<(key: K) => V>;
  /** Most keys per `load` call; more are split into several calls. */
  maxKeys?: number;
};

/**
 * Collects the keys asked for in the same turn of the event loop and loads them with one call per
 * group (a region, a cluster) and at most `maxKeys` keys, so a fleet costs a handful of calls.
 * A key asked for twice in one turn is loaded once.
 */
export class KeyedBatcher<G, K, V> {
  private pending = new Map<string, Group<G, K, V>>();
  private scheduled = false;

  constructor(private readonly options: KeyedBatcherOptions<G, K, V>) {}

  get(group: G, key: K): Promise<V> {
    return new Promise((resolve, reject) => {
      const groupId = this.options.groupId(group);
      const entry = this.pending.get(groupId) ?? { group, keys: new Map() };
      this.pending.set(groupId, entry);
      const keyId = this.options.keyId(key);
      const waiting = entry.keys.get(keyId) ?? { key, waiters: [] };
      waiting.waiters.push({ resolve, reject });
      entry.keys.set(keyId, waiting);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush() {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    const max = this.options.maxKeys ?? Infinity;
    for (const { group, keys } of batch.values()) {
      const entries = [...keys.values()];
      for (let i = 0; i < entries.length; i += max) {
        this.loadChunk(group, entries.slice(i, i + max));
      }
    }
  }

  private loadChunk(
    group: G,
    chunk: Array<{ key: K; waiters: Array<Waiter<V>> }>,
  ) {
    // A loader that throws at once fails its chunk like one that rejects.
    Promise.resolve()
      .then(() =>
        this.options.load(
          group,
          chunk.map(c => c.key),
        ),
      )
      .then(
        answer => {
          for (const { key, waiters } of chunk) {
            try {
              const value = answer(key);
              waiters.forEach(w => w.resolve(value));
            } catch (error) {
              waiters.forEach(w => w.reject(error));
            }
          }
        },
        error => chunk.forEach(c => c.waiters.forEach(w => w.reject(error))),
      );
  }
}
