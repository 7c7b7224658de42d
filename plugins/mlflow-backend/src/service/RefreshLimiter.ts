import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';

const TABLE = 'mlflow_health_refresh_claims';

/** Decides which entities may have their health checked again now. */
export interface RefreshLimiter {
  /** The refs that may be refreshed now; each claim blocks the next refresh for the interval. */
  claim(entityRefs: string[]): Promise<Set<string>>;
}

/**
 * The refresh limit in the plugin's database, so it holds across backend replicas: one
 * conditional upsert (insert, or move `claimed_until` only when it has passed) claims a batch of
 * refs atomically, and only the refs it wrote are refreshed. PostgreSQL and SQLite.
 */
export class DatabaseRefreshLimiter implements RefreshLimiter {
  static async create(
    database: DatabaseService,
    intervalMs: number,
  ): Promise<DatabaseRefreshLimiter> {
    const knex = await database.getClient();
    if (!database.migrations?.skip) {
      await knex.migrate.latest({
        directory: resolvePackagePath(
          '@stateful-mlflow/plugin-mlflow-backend',
          'migrations',
        ),
      });
    }
    return new DatabaseRefreshLimiter(knex, intervalMs);
  }

  constructor(
    private readonly knex: Knex,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(entityRefs: string[]): Promise<Set<string>> {
    const refs = [...new Set(entityRefs)];
    if (refs.length === 0) {
      return new Set();
    }
    const now = this.now();
    const claimed: Array<{ entity_ref: string }> = await this.knex(TABLE)
      .insert(
        refs.map(ref => ({
          entity_ref: ref,
          claimed_until: now + this.intervalMs,
        })),
      )
      .onConflict('entity_ref')
      .merge(['claimed_until'])
      .where(`${TABLE}.claimed_until`, '<=', now)
      .returning('entity_ref');
    return new Set(claimed.map(row => row.entity_ref));
  }
}
