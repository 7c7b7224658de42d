import { InputError } from '@backstage/errors';
import { randomBytes } from 'node:crypto';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { SqlClient } from './postgresConnection';

/** A password of 43 URL-safe characters (256 bits). */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/** The comment marking a database or role as created for an MLflow instance. */
export function ownershipComment(instance: string) {
  return `managed-by=backstage-stateful-mlflow instance=${instance}`;
}

/** What the role and database look like now; read-only. */
export async function inspectDatabase(
  client: SqlClient,
  databaseName: string,
  username: string,
): Promise<{
  role?: { comment?: string };
  database?: { owner: string; comment?: string };
}> {
  const roles = await client.query(
    `SELECT r.rolname, shobj_description(r.oid, 'pg_authid') AS comment FROM pg_roles r WHERE r.rolname = $1`,
    [username],
  );
  const databases = await client.query(
    `SELECT d.datname, pg_get_userbyid(d.datdba) AS owner, shobj_description(d.oid, 'pg_database') AS comment FROM pg_database d WHERE d.datname = $1`,
    [databaseName],
  );
  const role = roles.rows[0];
  const database = databases.rows[0];
  return {
    role: role
      ? { comment: (role.comment as string | null) ?? undefined }
      : undefined,
    database: database
      ? {
          owner: String(database.owner),
          comment: (database.comment as string | null) ?? undefined,
        }
      : undefined,
  };
}

/**
 * Whether an existing database was created for `instance`: it carries the instance's comment, or it
 * carries none and is owned by the instance's own role (a run interrupted between CREATE DATABASE and
 * COMMENT, which cannot share a transaction; the role and its comment are created in one).
 */
export function isOurDatabase(
  state: Awaited<ReturnType<typeof inspectDatabase>>,
  instance: string,
  username: string,
): boolean {
  const marker = ownershipComment(instance);
  if (!state.database) {
    return false;
  }
  if (state.database.comment === marker) {
    return true;
  }
  return (
    state.database.comment === undefined &&
    state.database.owner === username &&
    state.role?.comment === marker
  );
}

/** Throws unless the existing role and database (if any) were created for this instance. */
export function assertOurs(
  state: Awaited<ReturnType<typeof inspectDatabase>>,
  instance: string,
  databaseName: string,
  username: string,
) {
  const marker = ownershipComment(instance);
  if (state.role && state.role.comment !== marker) {
    throw new InputError(
      `Invalid username: received "${username}", but a PostgreSQL role with that name already exists and was not created for MLflow instance "${instance}". It is not taken over silently: choose another username.`,
    );
  }
  if (state.database && !isOurDatabase(state, instance, username)) {
    throw new InputError(
      `Invalid databaseName: received "${databaseName}", but a database with that name already exists and was not created for MLflow instance "${instance}". It is not taken over silently: choose another databaseName.`,
    );
  }
}

/** Throws an InputError unless the role and database are absent or were created for `instance`. */
export async function assertDatabaseFreeOrOurs(
  client: SqlClient,
  options: { instance: string; databaseName: string; username: string },
): Promise<void> {
  const { instance, databaseName, username } = options;
  assertOurs(
    await inspectDatabase(client, databaseName, username),
    instance,
    databaseName,
    username,
  );
}

/**
 * Seed step 2: a database owned by a dedicated login role, PUBLIC shut out of it, and the role
 * kept out of the instance's built-in databases. Idempotent: re-running sets the same state.
 * Names were validated against the PostgreSQL rules and are quoted again here.
 *
 * @returns databases other than its own that the role can still connect to (owned by others)
 */
export async function provisionDatabase(
  client: SqlClient,
  options: {
    instance: string;
    databaseName: string;
    username: string;
    password: string;
  },
): Promise<string[]> {
  const { instance, databaseName, username, password } = options;
  const db = escapeIdentifier(databaseName);
  const role = escapeIdentifier(username);
  const marker = escapeLiteral(ownershipComment(instance));
  const state = await inspectDatabase(client, databaseName, username);
  assertOurs(state, instance, databaseName, username);

  if (state.role) {
    await client.query(
      `ALTER ROLE ${role} WITH LOGIN PASSWORD ${escapeLiteral(password)}`,
    );
  } else {
    // One transaction: a role never exists without the comment that makes it this instance's.
    await client.query('BEGIN');
    try {
      await client.query(
        `CREATE ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${escapeLiteral(
          password,
        )}`,
      );
      await client.query(`COMMENT ON ROLE ${role} IS ${marker}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }
  // A non-superuser master (RDS) must be a member of a role to make it a database owner.
  await client.query(`GRANT ${role} TO CURRENT_USER`);
  if (state.database) {
    await client.query(`ALTER DATABASE ${db} OWNER TO ${role}`);
  } else {
    await client.query(`CREATE DATABASE ${db} OWNER ${role}`);
  }
  // Also when the database exists: an interrupted run may have left it without its comment.
  await client.query(`COMMENT ON DATABASE ${db} IS ${marker}`);
  await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
  await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${role}`);
  // The instance is dedicated to MLflow: nobody but owners needs its built-in databases.
  for (const builtIn of ['postgres', 'template1']) {
    await client.query(
      `REVOKE CONNECT ON DATABASE ${escapeIdentifier(builtIn)} FROM PUBLIC`,
    );
  }
  const reachable = await client.query(
    `SELECT datname FROM pg_database WHERE datallowconn AND datname <> $1 AND has_database_privilege($2, datname, 'CONNECT') ORDER BY datname`,
    [databaseName, username],
  );
  return reachable.rows.map(r => String(r.datname));
}
