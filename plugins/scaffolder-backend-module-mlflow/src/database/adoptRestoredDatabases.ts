import { InputError } from '@backstage/errors';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { SqlClient } from './postgresConnection';
import { inspectDatabase, ownershipComment } from './provisionDatabase';

/** This instance's names on the server, and the instance a restored snapshot was taken of. */
export type RestoredDatabaseAdoption = {
  /** The MLflow instance the RDS instance was restored from (its snapshot's). */
  source: string;
  instance: string;
  databaseName: string;
  authDatabaseName: string;
  username: string;
  log: (message: string) => void;
};

/**
 * An RDS instance restored from the snapshot of another MLflow instance holds that instance's
 * database, sign-in database and login role, under its default names and marked (comments) as its.
 * Renames each to this instance's name and marks it as this instance's, so the restored runs,
 * users and permissions are served under the new name. Only what the comments mark as the source
 * instance's is renamed; a name of this instance that is already taken is refused, naming it.
 * Idempotent: once renamed, nothing of the source is left to rename. Logs what it renames.
 */
export async function adoptRestoredDatabases(
  client: SqlClient,
  o: RestoredDatabaseAdoption,
): Promise<void> {
  if (o.source === o.instance) {
    return;
  }
  const from = resolveInstanceNames({ name: o.source });
  const sourceMarker = ownershipComment(o.source);
  const marker = escapeLiteral(ownershipComment(o.instance));

  // Every name is checked before anything is renamed: a refusal leaves the server as restored.
  const renames: Array<{
    kind: 'ROLE' | 'DATABASE';
    from: string;
    to: string;
  }> = [];
  const pairs: Array<
    ['username' | 'databaseName' | 'authDatabaseName', string, string]
  > = [
    ['username', from.databaseUsername, o.username],
    ['databaseName', from.databaseName, o.databaseName],
    ['authDatabaseName', from.authDatabaseName, o.authDatabaseName],
  ];
  for (const [field, source, target] of pairs) {
    const kind = field === 'username' ? 'ROLE' : 'DATABASE';
    const inspect = async (n: string) =>
      kind === 'ROLE'
        ? (await inspectDatabase(client, '', n)).role
        : (await inspectDatabase(client, n, '')).database;
    if (
      source === target ||
      (await inspect(source))?.comment !== sourceMarker
    ) {
      continue;
    }
    if (await inspect(target)) {
      throw new InputError(
        `Invalid ${field}: received "${target}", but the RDS instance restored from MLflow instance "${
          o.source
        }" already has a ${kind.toLowerCase()} of that name besides the restored ${kind.toLowerCase()} ${source}. Drop one of them, or pass ${field} ${source}.`,
      );
    }
    renames.push({ kind, from: source, to: target });
  }
  for (const { kind, from: source, to } of renames) {
    if (kind === 'DATABASE') {
      // Renaming needs the owner's rights; the master is made a member as provisionDatabase does.
      const { database } = await inspectDatabase(client, source, '');
      await client.query(
        `GRANT ${escapeIdentifier(database!.owner)} TO CURRENT_USER`,
      );
    }
    await client.query(
      `ALTER ${kind} ${escapeIdentifier(source)} RENAME TO ${escapeIdentifier(
        to,
      )}`,
    );
    await client.query(
      `COMMENT ON ${kind} ${escapeIdentifier(to)} IS ${marker}`,
    );
    o.log(
      `Restored from MLflow instance ${
        o.source
      }: renamed ${kind.toLowerCase()} ${source} to ${to}`,
    );
  }
}
