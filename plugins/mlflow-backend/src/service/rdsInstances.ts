import {
  DBInstance,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';

/** DescribeDBInstances accepts at most 100 values per filter. */
const MAX_IDS_PER_CALL = 100;

type Waiter = {
  resolve: (instance: DBInstance | undefined) => void;
  reject: (error: unknown) => void;
};

/**
 * Collects the instance ids asked for in the same turn of the event loop and describes them with
 * one DescribeDBInstances call per region and 100 ids, so a fleet of 500 instances costs 5 calls.
 */
export class RdsInstanceBatcher {
  private pending = new Map<string, Map<string, Waiter[]>>();
  private scheduled = false;

  constructor(
    private readonly clientFor: (region: string) => Promise<RDSClient>,
    private readonly timeoutMs: number,
  ) {}

  /** The instance, or undefined when the region has no instance with that id. */
  describe(
    region: string,
    instanceId: string,
  ): Promise<DBInstance | undefined> {
    return new Promise((resolve, reject) => {
      const byId = this.pending.get(region) ?? new Map<string, Waiter[]>();
      this.pending.set(region, byId);
      const waiters = byId.get(instanceId) ?? [];
      waiters.push({ resolve, reject });
      byId.set(instanceId, waiters);
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
    for (const [region, byId] of batch) {
      const ids = [...byId.keys()];
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) {
        const chunk = ids.slice(i, i + MAX_IDS_PER_CALL);
        this.describeChunk(region, chunk).then(
          found => {
            for (const id of chunk) {
              byId.get(id)!.forEach(w => w.resolve(found.get(id)));
            }
          },
          error => {
            for (const id of chunk) {
              byId.get(id)!.forEach(w => w.reject(error));
            }
          },
        );
      }
    }
  }

  private async describeChunk(
    region: string,
    ids: string[],
  ): Promise<Map<string, DBInstance>> {
    const client = await this.clientFor(region);
    const found = new Map<string, DBInstance>();
    let marker: string | undefined;
    do {
      const page = await client.send(
        new DescribeDBInstancesCommand({
          Filters: [{ Name: 'db-instance-id', Values: ids }],
          MaxRecords: MAX_IDS_PER_CALL,
          Marker: marker,
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
      for (const instance of page.DBInstances ?? []) {
        if (instance.DBInstanceIdentifier) {
          found.set(instance.DBInstanceIdentifier, instance);
        }
      }
      marker = page.Marker;
    } while (marker);
    return found;
  }
}
