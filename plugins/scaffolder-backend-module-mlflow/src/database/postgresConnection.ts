import { InputError, NotAllowedError, isError } from '@backstage/errors';
import { Socket, connect as connectTcp } from 'node:net';
import { Client, ClientConfig } from 'pg';
import {
  CallAbandonedError,
  StepDeadline,
  untilAbandoned,
} from '../util/stepDeadline';

/**
 * The part of a PostgreSQL client the database steps use; tests pass a fake.
 *
 * @public
 */
export interface SqlClient {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}

/**
 * Opens a connection; with a deadline, connecting and every statement are bounded by it.
 *
 * @public
 */
export type SqlConnector = (
  config: ClientConfig,
  deadline?: StepDeadline,
) => Promise<SqlClient>;

/**
 * How a connection to PostgreSQL is secured (libpq's sslmode).
 *
 * @public
 */
export type SslMode = 'disable' | 'require' | 'verify-full';

/** Shown in pg_stat_activity, so an operator sees who holds a connection or a lock. */
export const APPLICATION_NAME = 'backstage-stateful-mlflow';

const CANCEL_REQUEST_CODE = 80877102;
const CANCEL_SEND_TIMEOUT_MS = 2_000;
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * node-postgres TLS options for a libpq-style sslmode. verify-full checks the chain (against `ca`,
 * e.g. the RDS bundle, or Node's trust store) and the host name; require only encrypts.
 */
export function sslOptions(sslMode: SslMode, ca?: string): ClientConfig['ssl'] {
  if (sslMode === 'disable') {
    return false;
  }
  if (sslMode === 'require') {
    return { rejectUnauthorized: false };
  }
  return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
}

/** Asks the server to stop the statement running on another connection (the wire protocol's CancelRequest). */
function sendCancelRequest(
  host: string,
  port: number,
  backend: { processID: number; secretKey: number },
): Promise<void> {
  return new Promise(resolve => {
    const socket = connectTcp(port, host);
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(CANCEL_SEND_TIMEOUT_MS, done);
    socket.once('error', done);
    socket.once('close', done);
    socket.once('connect', () => {
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      packet.writeInt32BE(backend.processID, 8);
      packet.writeInt32BE(backend.secretKey, 12);
      socket.end(packet);
    });
  });
}

/** What a statement is, for a message: its first two words, never its values or literals. */
function statementLabel(text: string): string {
  return text.trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * Connects with node-postgres. With a deadline, connecting and each statement get a timeout and
 * stop on cancel: the statement is cancelled on the server, the connection closed, and the step
 * gets a CallAbandonedError. `statement_timeout` stops it on the server even if the cancel is lost.
 */
export const connectWithPg: SqlConnector = async (config, deadline) => {
  const socket = new Socket();
  const target = `${config.host}:${config.port}`;
  const connectLimit = deadline?.nextCall();
  const client = new Client({
    application_name: APPLICATION_NAME,
    ...config,
    stream: () => socket,
    ...(connectLimit
      ? {
          // Both later than our own limits, so the step reports the abandoned call, not pg's
          // message (at the same limit the server's cancel could win the race); the server's
          // statement_timeout only backs up the cancel request we send when we abandon.
          connectionTimeoutMillis: connectLimit.timeoutMs + 1_000,
          statement_timeout: deadline!.callTimeoutMs + 1_000,
        }
      : {}),
  });
  client.on('error', () => undefined);
  if (!connectLimit) {
    await client.connect();
    return client;
  }
  try {
    await untilAbandoned(
      client.connect(),
      connectLimit,
      `Connecting to PostgreSQL at ${target}`,
    );
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const backend = client as unknown as {
    processID: number | null;
    secretKey: number | null;
  };
  return {
    async query(text, values) {
      const limit = deadline!.nextCall();
      try {
        return await untilAbandoned(
          client.query(text, values),
          limit,
          `PostgreSQL statement ${statementLabel(text)} at ${target}`,
        );
      } catch (error) {
        if (error instanceof CallAbandonedError) {
          if (backend.processID !== null && backend.secretKey !== null) {
            await sendCancelRequest(String(config.host), Number(config.port), {
              processID: backend.processID,
              secretKey: backend.secretKey,
            });
          }
          socket.destroy();
        }
        throw error;
      }
    },
    async end() {
      if (socket.destroyed) {
        return;
      }
      // A server that stopped answering would never acknowledge the goodbye.
      const force = setTimeout(() => socket.destroy(), CLOSE_TIMEOUT_MS);
      await client.end().catch(() => undefined);
      clearTimeout(force);
    },
  };
};

/** Turns PostgreSQL failures into messages a template user can act on; never includes a password. */
export function explainPostgresError(error: unknown, target: string): Error {
  if (!isError(error)) {
    return new Error(String(error));
  }
  if (error instanceof CallAbandonedError) {
    return error;
  }
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case '28P01':
    case '28000':
      return new NotAllowedError(
        `PostgreSQL at ${target} refused the master credentials from the RDS managed secret (${code}): the secret may have been rotated while the instance was modified; retry, or check the instance's master user.`,
      );
    case '42501':
      return new NotAllowedError(
        `The master user may not do this on ${target}: ${error.message}. It needs CREATEDB and CREATEROLE (RDS grants both to the master user).`,
      );
    case 'ECONNREFUSED':
    case 'ETIMEDOUT':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
      return new Error(
        `Cannot reach PostgreSQL at ${target} (${code}): Backstage must be allowed in by the instance's security group (allowedSecurityGroupIds of mlflow:rds:create) or reach it through mlflow.database.connectionOverride.`,
      );
    default:
      return new Error(`PostgreSQL at ${target} failed: ${error.message}`);
  }
}

/** Connects; a failure comes out explained for the template user. */
export async function openPostgres(
  connect: SqlConnector,
  config: ClientConfig,
  deadline?: StepDeadline,
): Promise<SqlClient> {
  try {
    return await connect(config, deadline);
  } catch (error) {
    throw explainPostgresError(error, `${config.host}:${config.port}`);
  }
}

/**
 * Runs `fn` on a fresh connection and closes it; failures come out explained (InputErrors and
 * abandoned calls as they are).
 */
export async function withPostgres<T>(
  connect: SqlConnector,
  config: ClientConfig,
  deadline: StepDeadline | undefined,
  fn: (client: SqlClient) => Promise<T>,
): Promise<T> {
  const client = await openPostgres(connect, config, deadline);
  try {
    return await fn(client);
  } catch (error) {
    throw error instanceof InputError
      ? error
      : explainPostgresError(error, `${config.host}:${config.port}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
