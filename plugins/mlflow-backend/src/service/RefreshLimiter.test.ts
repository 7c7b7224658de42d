import knexFactory, { Knex } from 'knex';
import { DatabaseRefreshLimiter } from './RefreshLimiter';

describe('DatabaseRefreshLimiter', () => {
  let knex: Knex;
  let now: number;

  beforeEach(async () => {
    knex = knexFactory({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    now = 1_000_000;
  });

  afterEach(() => knex.destroy());

  /** A replica on the shared database; `create` runs the migration, as at start-up. */
  async function replica() {
    await DatabaseRefreshLimiter.create(
      { getClient: async () => knex },
      10_000,
    );
    return new DatabaseRefreshLimiter(knex, 10_000, () => now);
  }

  it('lets exactly one of two replicas claim a ref, then neither until the interval has passed', async () => {
    const [a, b] = [await replica(), await replica()];
    const [fromA, fromB] = await Promise.all([
      a.claim(['component:default/x', 'component:default/y']),
      b.claim(['component:default/x']),
    ]);
    expect(
      [
        fromA.has('component:default/x'),
        fromB.has('component:default/x'),
      ].filter(Boolean).length,
    ).toBe(1);
    expect(fromA.has('component:default/y')).toBe(true);

    now += 9_999;
    expect(await b.claim(['component:default/x'])).toEqual(new Set());
    now += 1;
    expect(
      await b.claim(['component:default/x', 'component:default/x']),
    ).toEqual(new Set(['component:default/x']));
    expect(await a.claim(['component:default/x'])).toEqual(new Set());
  });
});
