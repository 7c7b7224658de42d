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
import { SingleFlight } from './SingleFlight';

/** Pages of DescribeDBSnapshots read at most (100 snapshots each): 35 days of backups fit in one. */
const MAX_PAGES = 5;

type CachedSnapshot = {
  /** The report's checkedAt this was read for: a newer report reads again. */
  readFor: string;
  /** Absent when the read failed: the report is left as it is until a newer one reads again. */
  snapshot?: MlflowDatabaseSnapshot | null;
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
 * computations; a newer report gets the snapshot already kept while the read runs behind it, so
 * it never waits for DescribeDBSnapshots (only the instance's first report does). Only an instance
 * the database check described (its identity tags matched) is looked at; a failed read leaves the
 * report as it is, and is kept too, so a missing permission costs one call per report, not one per
 * request.
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

  // One read per instance at a time, shared by the reports that ask meanwhile.
  const reads = new SingleFlight<CachedSnapshot>();

  return async report => {
    const check = report.checks.find(c => c.id === 'database');
    const details = check?.details as MlflowDatabaseDetails | undefined;
    if (!details?.status || options.ttlMs === 0) {
      return report;
    }
    const { instanceId, region, accountId } = details;
    const key = `rds-last-snapshot:${accountId ?? ''}:${region}:${instanceId}`;
    const update = () =>
      reads.run(key, async () => {
        let entry: CachedSnapshot = { readFor: report.checkedAt };
        try {
          entry = {
            ...entry,
            snapshot: await read({ region, accountId }, instanceId),
          };
        } catch (error) {
          options.logger.warn(
            `DescribeDBSnapshots ${instanceId} for ${
              report.entityRef
            }: ${messageOf(error)}`,
          );
        }
        await options.cache.set(key, entry, { ttl: options.ttlMs });
        return entry;
      });
    let cached = await options.cache.get<CachedSnapshot>(key);
    if (!cached) {
      cached = await update();
    } else if (cached.readFor < report.checkedAt) {
      update().catch(error =>
        options.logger.warn(
          `Keeping the last snapshot of ${instanceId}: ${messageOf(error)}`,
        ),
      );
    }
    const { snapshot } = cached;
    if (snapshot === undefined) {
      return report;
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
