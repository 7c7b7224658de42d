import { SqlClient } from './postgresConnection';
import { adoptRestoredDatabases } from './adoptRestoredDatabases';
import { ownershipComment } from './provisionDatabase';

/** Roles and databases of a restored server, with their comments; understands the renames. */
class FakeRestoredServer implements SqlClient {
  readonly statements: string[] = [];
  constructor(
    readonly roles: Map<string, string | undefined>,
    readonly databases: Map<string, { owner: string; comment?: string }>,
  ) {}

  async query(text: string, values: unknown[] = []) {
    this.statements.push(text);
    const name = String(values[0]);
    if (text.includes('FROM pg_roles')) {
      return {
        rows: this.roles.has(name)
          ? [{ rolname: name, comment: this.roles.get(name) ?? null }]
          : [],
      };
    }
    if (text.includes('FROM pg_database d WHERE d.datname')) {
      const db = this.databases.get(name);
      return {
        rows: db
          ? [{ datname: name, owner: db.owner, comment: db.comment ?? null }]
          : [],
      };
    }
    const rename = /^ALTER (ROLE|DATABASE) "(.+)" RENAME TO "(.+)"$/.exec(text);
    if (rename?.[1] === 'ROLE') {
      this.roles.set(rename[3], this.roles.get(rename[2]));
      this.roles.delete(rename[2]);
      for (const db of this.databases.values()) {
        if (db.owner === rename[2]) db.owner = rename[3];
      }
    } else if (rename) {
      this.databases.set(rename[3], this.databases.get(rename[2])!);
      this.databases.delete(rename[2]);
    }
    const comment = /^COMMENT ON (ROLE|DATABASE) "(.+)" IS '(.*)'$/.exec(text);
    if (comment?.[1] === 'ROLE') {
      this.roles.set(comment[2], comment[3]);
    } else if (comment) {
      this.databases.get(comment[2])!.comment = comment[3];
    }
    return { rows: [] };
  }

  async end() {}
}

const target = {
  instance: 'new-name',
  databaseName: 'mlflow_new_name',
  authDatabaseName: 'mlflow_new_name_auth',
  username: 'mlflow_new_name',
};

function restoredFrom(source: string) {
  const marker = ownershipComment(source);
  return new FakeRestoredServer(
    new Map([
      ['admin', undefined],
      ['mlflow_old', marker],
    ]),
    new Map([
      ['mlflow_old', { owner: 'mlflow_old', comment: marker }],
      ['mlflow_old_auth', { owner: 'mlflow_old', comment: marker }],
      ['postgres', { owner: 'admin' }],
    ]),
  );
}

describe('adoptRestoredDatabases', () => {
  it("renames the snapshot instance's role, database and sign-in database to this instance's and marks them as its", async () => {
    const server = restoredFrom('old');
    const log: string[] = [];
    await adoptRestoredDatabases(server, {
      ...target,
      source: 'old',
      log: m => log.push(m),
    });
    const marker = ownershipComment('new-name');
    expect(server.roles.get('mlflow_new_name')).toBe(marker);
    expect(server.roles.has('mlflow_old')).toBe(false);
    expect(server.databases.get('mlflow_new_name')).toEqual({
      owner: 'mlflow_new_name',
      comment: marker,
    });
    expect(server.databases.get('mlflow_new_name_auth')).toEqual({
      owner: 'mlflow_new_name',
      comment: marker,
    });
    expect(server.databases.has('mlflow_old')).toBe(false);
    expect(log).toEqual([
      'Restored from MLflow instance old: renamed role mlflow_old to mlflow_new_name',
      'Restored from MLflow instance old: renamed database mlflow_old to mlflow_new_name',
      'Restored from MLflow instance old: renamed database mlflow_old_auth to mlflow_new_name_auth',
    ]);

    // A second run finds nothing of the source left: nothing changes.
    const before = server.statements.length;
    await adoptRestoredDatabases(server, {
      ...target,
      source: 'old',
      log: m => log.push(m),
    });
    expect(
      server.statements.slice(before).filter(s => !s.startsWith('SELECT')),
    ).toEqual([]);
  });

  it('does nothing for a restore under the same name', async () => {
    const server = restoredFrom('old');
    await adoptRestoredDatabases(server, {
      instance: 'old',
      databaseName: 'mlflow_old',
      authDatabaseName: 'mlflow_old_auth',
      username: 'mlflow_old',
      source: 'old',
      log: () => undefined,
    });
    expect(server.statements).toEqual([]);
  });

  it('leaves alone what is not marked as the source instance', async () => {
    const server = restoredFrom('someone-else');
    await adoptRestoredDatabases(server, {
      ...target,
      source: 'old',
      log: () => undefined,
    });
    expect(server.statements.filter(s => !s.startsWith('SELECT'))).toEqual([]);
    expect(server.databases.has('mlflow_old')).toBe(true);
  });

  it('refuses, naming the field, when a name of this instance is already taken', async () => {
    const server = restoredFrom('old');
    server.databases.set('mlflow_new_name', { owner: 'admin' });
    await expect(
      adoptRestoredDatabases(server, {
        ...target,
        source: 'old',
        log: () => undefined,
      }),
    ).rejects.toThrow(
      'Invalid databaseName: received "mlflow_new_name", but the RDS instance restored from MLflow instance "old" already has a database of that name',
    );
    expect(server.databases.has('mlflow_old')).toBe(true);
  });
});
