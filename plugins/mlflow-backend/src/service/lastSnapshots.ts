import {
  DBSnapshot,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import {
  MlflowDatabaseDetails,
  MlflowDatabaseSnapshot,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { messageOf } from './checks/types';
import { AwsLocation } from './rdsInstances';

/** Pages of DescribeDBSnapshots read at most (100 snapshots each): 35 days of backups fit in one. */
const MAX_PAGES = 5;

type CachedSnapshot = {
  /** The report's checkedAt this was read for: a newer report reads again. */
  readFor: string;
  snapshot: MlflowDatabaseSnapshot | null;
};

/** Adds the instance's newest snapshot to the database check of one entity's report. */
export type LastSnapshotReader = (
  report: MlflowHealthReport,
) => Promise<MlflowHealthReport>;

function newest(snapshots: DBSnapshot[]): MlflowDatabaseSnapshot | null {
  const [latest] = snapshots
    .filter(s => s.DBSnapshotIdentifier)
    .sort(
      (a, b) =>
        (b.SnapshotCreateTime?.getTime() ?? Number.MAX_SAFE_INTEGER) -
        (a.SnapshotCreateTime?.getTime() ?? Number.MAX_SAFE_INTEGER),
    );
  if (!latest) {
    return null;
  }
  return {
    id: latest.DBSnapshotIdentifier!,
    ...(latest.SnapshotCreateTime
      ? { createdAt: latest.SnapshotCreateTime.toISOString() }
      : {}),
    ...(latest.SnapshotType ? { type: latest.SnapshotType } : {}),
    ...(latest.Status ? { status: latest.Status } : {}),
  };
}

/**
 * The last snapshot of the instance a report's database check described (DescribeDBSnapshots of
 * that instance), for the report of one entity only: a fleet never pays for it. Kept in the cache
 * with the report's TTL and read again only for a newer report, so the calls follow the report
 * computations. Only an instance the database check described (its identity tags matched) is
 * looked at; a failed read leaves the report as it is.
 */
export function createLastSnapshotReader(options: {
  rdsClientFor: (location: AwsLocation) => Promise<RDSClient>;
  cache: CacheService;
  ttlMs: number;
  timeoutMs: number;
  logger: LoggerService;
}): LastSnapshotReader {
  const read = async (
    location: AwsLocation,
    instanceId: string,
  ): Promise<MlflowDatabaseSnapshot | null> => {
    const client = await options.rdsClientFor(location);
    const found: DBSnapshot[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: instanceId,
          MaxRecords: 100,
          Marker: marker,
        }),
        { abortSignal: AbortSignal.timeout(options.timeoutMs) },
      );
      found.push(...(page.DBSnapshots ?? []));
      marker = page.Marker;
      pages += 1;
    } while (marker && pages < MAX_PAGES);
    return newest(found);
  };

  return async report => {
    const check = report.checks.find(c => c.id === 'database');
    const details = check?.details as MlflowDatabaseDetails | undefined;
    if (!details?.status || options.ttlMs === 0) {
      return report;
    }
    const { instanceId, region, accountId } = details;
    const key = `rds-last-snapshot:${accountId ?? ''}:${region}:${instanceId}`;
    const cached = await options.cache.get<CachedSnapshot>(key);
    let snapshot =
      cached && cached.readFor >= report.checkedAt
        ? cached.snapshot
        : undefined;
    if (snapshot === undefined) {
      try {
        snapshot = await read({ region, accountId }, instanceId);
      } catch (error) {
        options.logger.warn(
          `DescribeDBSnapshots ${instanceId} for ${
            report.entityRef
          }: ${messageOf(error)}`,
        );
        return report;
      }
      await options.cache.set(
        key,
        { readFor: report.checkedAt, snapshot },
        { ttl: options.ttlMs },
      );
    }
    return {
      ...report,
      checks: report.checks.map(c =>
        c === check
          ? { ...c, details: { ...details, lastSnapshot: snapshot } }
          : c,
      ) as MlflowHealthReport['checks'],
    };
  };
}
