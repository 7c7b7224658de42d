import {
  DBInstance,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { KeyedBatcher } from './KeyedBatcher';

/** DescribeDBInstances accepts at most 100 values per filter. */
const MAX_IDS_PER_CALL = 100;

/** Where an instance's AWS resources live: the region, and the account when it is not the main one. */
export type AwsLocation = { region: string; accountId?: string };

/** Describes RDS instances by id; undefined when the location has no instance with that id. */
export type RdsInstanceReader = KeyedBatcher<
  AwsLocation,
  string,
  DBInstance | undefined
>;

/**
 * One DescribeDBInstances call per account, region and 100 ids for every instance asked for in the
 * same turn, so a fleet of 500 instances costs 5 calls.
 */
export function createRdsInstanceReader(
  clientFor: (location: AwsLocation) => Promise<RDSClient>,
  timeoutMs: number,
): RdsInstanceReader {
  return new KeyedBatcher({
    groupId: ({ region, accountId }) => `${accountId ?? ''}:${region}`,
    keyId: id => id,
    maxKeys: MAX_IDS_PER_CALL,
    async load(location, ids) {
      const client = await clientFor(location);
      const found = new Map<string, DBInstance>();
      let marker: string | undefined;
      do {
        const page = await client.send(
          new DescribeDBInstancesCommand({
            Filters: [{ Name: 'db-instance-id', Values: ids }],
            MaxRecords: MAX_IDS_PER_CALL,
            Marker: marker,
          }),
          { abortSignal: AbortSignal.timeout(timeoutMs) },
        );
        for (const instance of page.DBInstances ?? []) {
          if (instance.DBInstanceIdentifier) {
            found.set(instance.DBInstanceIdentifier, instance);
          }
        }
        marker = page.Marker;
      } while (marker);
      return id => found.get(id);
    },
  });
}
