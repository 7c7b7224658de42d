import { CacheService } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';

/** Most reports kept in process; the oldest is dropped first. */
const MAX_LOCAL_REPORTS = 10_000;

/**
 * Reports in the CacheService, shared by every backend instance, with an in-process copy in front
 * so that a warm read costs neither a round trip nor a deserialisation. Both expire `ttlMs` after
 * the report's `checkedAt`; a TTL of 0 caches nothing.
 */
export class ReportCache {
  private readonly local = new Map<
    string,
    { report: MlflowHealthReport; expiresAt: number }
  >();

  constructor(
    private readonly cache: CacheService,
    private readonly ttlMs: number,
  ) {}

  async get(key: string): Promise<MlflowHealthReport | undefined> {
    if (this.ttlMs === 0) {
      return undefined;
    }
    const local = this.local.get(key);
    if (local && local.expiresAt > Date.now()) {
      return local.report;
    }
    this.local.delete(key);
    const shared = await this.cache.get<JsonObject>(key);
    if (!shared) {
      return undefined;
    }
    const report = shared as unknown as MlflowHealthReport;
    return this.remember(key, report) ? report : undefined;
  }

  async set(key: string, report: MlflowHealthReport): Promise<void> {
    if (this.ttlMs === 0 || !this.remember(key, report)) {
      return;
    }
    await this.cache.set(key, report as unknown as JsonObject, {
      ttl: Date.parse(report.checkedAt) + this.ttlMs - Date.now(),
    });
  }

  /** Keeps the report in process; false when it has already expired. */
  private remember(key: string, report: MlflowHealthReport): boolean {
    const expiresAt = Date.parse(report.checkedAt) + this.ttlMs;
    if (!(expiresAt > Date.now())) {
      return false;
    }
    this.local.delete(key);
    this.local.set(key, { report, expiresAt });
    if (this.local.size > MAX_LOCAL_REPORTS) {
      this.local.delete(this.local.keys().next().value!);
    }
    return true;
  }
}
