import { InputError } from '@backstage/errors';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { SqlClient } from './postgresConnection';
import {
  inspectDatabase,
  isOurDatabase,
  ownershipComment,
} from './provisionDatabase';

/** Throws an InputError naming authDatabaseName unless that database is absent or this instance's. */
export async function assertAuthDatabaseFreeOrOurs(
  client: SqlClient,
  o: { instance: string; authDatabaseName: string; username: string },
): Promise<boolean> {
  const state = await inspectDatabase(client, o.authDatabaseName, o.username);
  if (state.database && !isOurDatabase(state, o.instance, o.username)) {
    throw new InputError(
      `Invalid authDatabaseName: received "${o.authDatabaseName}", but a database with that name already exists and was not created for MLflow instance "${o.instance}". It is not taken over silently: choose another authDatabaseName.`,
    );
  }
  return !!state.database;
}

/**
 * The database of MLflow's basic-auth app (users, permissions), beside the backend store on the
 * same server and owned by the same role, PUBLIC shut out. It lives in RDS, so users survive any
 * pod. The role must exist (provisionDatabase). Idempotent.
 */
export async function provisionAuthDatabase(
  client: SqlClient,
  o: { instance: string; authDatabaseName: string; username: string },
): Promise<void> {
  const db = escapeIdentifier(o.authDatabaseName);
  const role = escapeIdentifier(o.username);
  if (await assertAuthDatabaseFreeOrOurs(client, o)) {
    await client.query(`ALTER DATABASE ${db} OWNER TO ${role}`);
  } else {
    await client.query(`CREATE DATABASE ${db} OWNER ${role}`);
  }
  // Also when it exists: a run interrupted after CREATE DATABASE left it without its comment.
  await client.query(
    `COMMENT ON DATABASE ${db} IS ${escapeLiteral(
      ownershipComment(o.instance),
    )}`,
  );
  await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
  await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${role}`);
}
