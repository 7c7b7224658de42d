import { readStackEnv } from '@internal/stack-env';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { uniqueSuffix } from '../__testUtils__/stack';
import { provisionAuthDatabase } from './provisionAuthDatabase';
import { ownershipComment, provisionDatabase } from './provisionDatabase';

// The stack's PostgreSQL is shared with colleagues on a small machine.
jest.setTimeout(60_000);

/**
 * A run killed between CREATE DATABASE and COMMENT ON DATABASE (they cannot share a transaction)
 * leaves a database without its comment. The next run of the same instance finishes it; a database
 * without the comment that another role owns stays refused.
 */
describe('provisionDatabase after an interrupted run, on the local stack', () => {
  const suffix = uniqueSuffix().replace(/-/g, '_');
  const instance = `db-${uniqueSuffix()}`;
  const username = `mlflow_role_${suffix}`;
  const databaseName = `mlflow_db_${suffix}`;
  const authDatabaseName = `mlflow_auth_${suffix}`;
  const foreignRole = `someone_${suffix}`;
  const foreignDatabase = `taken_${suffix}`;
  let client: Client;

  beforeAll(async () => {
    const env = readStackEnv();
    client = new Client({
      host: env.pgHost,
      port: env.pgPort,
      user: env.pgUser,
      password: env.pgPassword,
      database: 'postgres',
    });
    await client.connect();
  });

  afterAll(async () => {
    for (const db of [databaseName, authDatabaseName, foreignDatabase]) {
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(db)}`);
    }
    for (const role of [username, foreignRole]) {
      await client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`);
    }
    await client.end();
  });

  const commentOf = async (db: string) =>
    (
      await client.query(
        `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
        [db],
      )
    ).rows[0]?.comment;

  it('finishes the databases an interrupted run of the same instance created without their comment', async () => {
    // What the interrupted run left: the role with its comment (one transaction), then the two
    // databases, owned by the role, without their comments.
    await client.query(
      `CREATE ROLE ${escapeIdentifier(username)} LOGIN PASSWORD 'interrupted'`,
    );
    await client.query(
      `COMMENT ON ROLE ${escapeIdentifier(username)} IS ${escapeLiteral(
        ownershipComment(instance),
      )}`,
    );
    for (const db of [databaseName, authDatabaseName]) {
      await client.query(
        `CREATE DATABASE ${escapeIdentifier(db)} OWNER ${escapeIdentifier(
          username,
        )}`,
      );
    }

    await provisionDatabase(client, {
      instance,
      databaseName,
      username,
      password: 'the-next-run',
    });
    await provisionAuthDatabase(client, {
      instance,
      authDatabaseName,
      username,
    });

    expect(await commentOf(databaseName)).toBe(ownershipComment(instance));
    expect(await commentOf(authDatabaseName)).toBe(ownershipComment(instance));
  });

  it('still refuses a database without a comment that another role owns', async () => {
    await client.query(`CREATE ROLE ${escapeIdentifier(foreignRole)}`);
    await client.query(
      `CREATE DATABASE ${escapeIdentifier(
        foreignDatabase,
      )} OWNER ${escapeIdentifier(foreignRole)}`,
    );

    await expect(
      provisionDatabase(client, {
        instance,
        databaseName: foreignDatabase,
        username,
        password: 'x',
      }),
    ).rejects.toThrow(
      `Invalid databaseName: received "${foreignDatabase}", but a database with that name already exists and was not created for MLflow instance "${instance}"`,
    );
    await expect(
      provisionAuthDatabase(client, {
        instance,
        authDatabaseName: foreignDatabase,
        username,
      }),
    ).rejects.toThrow(
      `Invalid authDatabaseName: received "${foreignDatabase}"`,
    );
    expect(await commentOf(foreignDatabase)).toBeNull();
  });
});
