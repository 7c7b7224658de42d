import { LoggerService } from '@backstage/backend-plugin-api';
import { createHash } from 'node:crypto';
import { StepDeadline } from '../util/stepDeadline';
import { waitFor } from '../util/waitFor';
import { SqlClient } from './postgresConnection';

/**
 * The advisory lock key of an MLflow instance: 63 bits of a hash of its name, so every backend
 * replica computes the same key, and keys of different instances practically never meet.
 */
export function instanceLockKey(instance: string): bigint {
  const digest = createHash('sha256')
    .update(`stateful-mlflow/database/${instance}`)
    .digest();
  return digest.readBigUInt64BE(0) & 0x7fffffffffffffffn;
}

async function tryLock(client: SqlClient, key: bigint): Promise<boolean> {
  const result = await client.query(
    'SELECT pg_try_advisory_lock($1::bigint) AS locked',
    [key.toString()],
  );
  return result.rows[0]?.locked === true;
}

/** Who holds the lock, for the progress lines: the backend's pid and application. */
async function describeHolder(client: SqlClient, key: bigint): Promise<string> {
  const result = await client.query(
    `SELECT l.pid, a.application_name, a.backend_start FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1`,
    [(key >> 32n).toString(), (key & 0xffffffffn).toString()],
  );
  const holder = result.rows[0];
  if (!holder) {
    return 'the lock was just released';
  }
  return `held by PostgreSQL backend ${holder.pid}${
    holder.application_name ? ` (${holder.application_name})` : ''
  }`;
}

/**
 * Takes a session advisory lock for `instance` on the instance's own PostgreSQL server, so that two
 * runs for one instance (in one backend or in two replicas) never interleave their password and
 * Secret writes. A second run waits with progress lines until the first is done, bounded by the
 * step's deadline, then fails naming the holder. The lock is released with `pg_advisory_unlock`
 * or when the connection ends, so a crashed run never leaves it behind.
 */
export async function acquireInstanceLock(
  client: SqlClient,
  options: {
    instance: string;
    logger: LoggerService;
    signal?: AbortSignal;
    deadline: StepDeadline;
    pollIntervalMs: number;
  },
): Promise<void> {
  const { instance, logger, deadline } = options;
  const key = instanceLockKey(instance);
  if (await tryLock(client, key)) {
    return;
  }
  logger.info(
    `Another run is setting up the database of MLflow instance ${instance} (${await describeHolder(
      client,
      key,
    )}); one run per instance at a time, so this one waits for it`,
  );
  await waitFor({
    what: `the other run for MLflow instance ${instance} to release its database lock`,
    timeoutSeconds: Math.max(1, Math.floor(deadline.remainingMs() / 1000)),
    logger,
    signal: options.signal,
    pollIntervalMs: options.pollIntervalMs,
    check: async () =>
      (await tryLock(client, key))
        ? { done: true, value: undefined }
        : { done: false, status: await describeHolder(client, key) },
  });
}

/** Releases the lock taken by `acquireInstanceLock` on this connection. */
export async function releaseInstanceLock(
  client: SqlClient,
  instance: string,
): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1::bigint)', [
    instanceLockKey(instance).toString(),
  ]);
}
