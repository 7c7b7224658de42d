import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { DatabaseError } from 'pg';
import { StepDeadline } from '../util/stepDeadline';
import { acquireInstanceLock, releaseInstanceLock } from './databaseLock';
import { explainPostgresError, SqlClient } from './postgresConnection';

type Opened = { client: SqlClient; password: string };

/**
 * The master connection of one run, opened on first use and holding the instance's lock, with the
 * application password decided under that lock. Everything that sets the password or writes it
 * somewhere runs inside `use`, so two runs for one instance take turns; a recovered task whose
 * steps all replay never opens it.
 */
export class LockedMasterSession {
  private opened?: Promise<Opened>;

  constructor(
    private readonly options: {
      instance: string;
      /** Where the connection goes, for messages. */
      target: string;
      /** Opens the master connection; its failures must already be explained. */
      connect: () => Promise<SqlClient>;
      /** Reads the current credentials and keeps or generates the password; runs under the lock. */
      decidePassword: () => Promise<string>;
      logger: LoggerService;
      signal?: AbortSignal;
      deadline: StepDeadline;
      lockPollIntervalMs: number;
    },
  ) {}

  private open(): Promise<Opened> {
    const { options } = this;
    return (async () => {
      const client = await options.connect();
      try {
        await acquireInstanceLock(client, {
          instance: options.instance,
          logger: options.logger,
          signal: options.signal,
          deadline: options.deadline,
          pollIntervalMs: options.lockPollIntervalMs,
        });
        return { client, password: await options.decidePassword() };
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error instanceof DatabaseError
          ? explainPostgresError(error, options.target)
          : error;
      }
    })();
  }

  /** The application password, decided under the lock (which this takes if it has not yet). */
  async password(): Promise<string> {
    this.opened ??= this.open();
    return (await this.opened).password;
  }

  /**
   * Runs `fn` holding the lock, with the master connection and the application password; its
   * PostgreSQL failures come out explained.
   */
  async use<T>(
    fn: (client: SqlClient, password: string) => Promise<T>,
  ): Promise<T> {
    this.opened ??= this.open();
    const { client, password } = await this.opened;
    try {
      return await fn(client, password);
    } catch (error) {
      throw error instanceof InputError
        ? error
        : explainPostgresError(error, this.options.target);
    }
  }

  /** Releases the lock and closes the connection, when they were opened. */
  async close(): Promise<void> {
    const opened = await this.opened?.catch(() => undefined);
    if (!opened) {
      return;
    }
    await releaseInstanceLock(opened.client, this.options.instance).catch(
      () => undefined,
    );
    await opened.client.end().catch(() => undefined);
  }
}
