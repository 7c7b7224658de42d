import { SqlClient } from '../database/postgresConnection';

/** Advisory locks of one fake server: key → the session holding it. */
export type FakeAdvisoryLocks = Map<string, FakeSqlClient>;

/**
 * A PostgreSQL stand-in that understands just the statements of provisionDatabase and the
 * instance lock: it keeps roles and databases with their comments, and records every statement.
 * Sessions of one server contend for the same locks.
 */
export class FakeSqlClient implements SqlClient {
  readonly statements: string[];
  readonly roles: Map<string, { comment?: string; password?: string }>;
  readonly databases: Map<string, { owner: string; comment?: string }>;
  readonly advisoryLocks: FakeAdvisoryLocks;
  ended = 0;

  /** With `server`, a second session on the same server: same roles, databases and locks. */
  constructor(server?: FakeSqlClient) {
    this.statements = server?.statements ?? [];
    this.roles = server?.roles ?? new Map();
    this.databases = server?.databases ?? new Map();
    this.advisoryLocks = server?.advisoryLocks ?? new Map();
  }

  async query(text: string, values: unknown[] = []) {
    this.statements.push(text);
    if (text.startsWith('SELECT pg_try_advisory_lock')) {
      const holder = this.advisoryLocks.get(String(values[0]));
      if (!holder || holder === this) {
        this.advisoryLocks.set(String(values[0]), this);
        return { rows: [{ locked: true }] };
      }
      return { rows: [{ locked: false }] };
    }
    if (text.startsWith('SELECT pg_advisory_unlock')) {
      if (this.advisoryLocks.get(String(values[0])) === this) {
        this.advisoryLocks.delete(String(values[0]));
      }
      return { rows: [{ pg_advisory_unlock: true }] };
    }
    if (text.includes('FROM pg_locks')) {
      return { rows: [{ pid: 4242, application_name: 'fake' }] };
    }
    const ident = (pattern: RegExp) => {
      const match = pattern.exec(text);
      return match ? match[1].replace(/""/g, '"') : '';
    };
    if (text.includes('FROM pg_roles')) {
      const role = this.roles.get(String(values[0]));
      return {
        rows: role
          ? [{ rolname: values[0], comment: role.comment ?? null }]
          : [],
      };
    }
    if (text.includes('FROM pg_database d WHERE d.datname')) {
      const db = this.databases.get(String(values[0]));
      return {
        rows: db
          ? [
              {
                datname: values[0],
                owner: db.owner,
                comment: db.comment ?? null,
              },
            ]
          : [],
      };
    }
    if (text.startsWith('SELECT datname FROM pg_database WHERE datallowconn')) {
      return { rows: [] };
    }
    if (text.startsWith('CREATE ROLE')) {
      const password = /PASSWORD '(.*)'$/.exec(text)?.[1];
      this.roles.set(ident(/^CREATE ROLE "((?:[^"]|"")+)"/), { password });
    } else if (text.startsWith('ALTER ROLE')) {
      const role = this.roles.get(ident(/^ALTER ROLE "((?:[^"]|"")+)"/));
      if (role) {
        role.password = /PASSWORD '(.*)'$/.exec(text)?.[1];
      }
    } else if (text.startsWith('COMMENT ON ROLE')) {
      this.roles.get(ident(/^COMMENT ON ROLE "((?:[^"]|"")+)"/))!.comment =
        /IS '(.*)'$/.exec(text)![1];
    } else if (text.startsWith('CREATE DATABASE')) {
      const match =
        /^CREATE DATABASE "((?:[^"]|"")+)" OWNER "((?:[^"]|"")+)"$/.exec(text)!;
      this.databases.set(match[1], { owner: match[2] });
    } else if (text.startsWith('COMMENT ON DATABASE')) {
      this.databases.get(
        ident(/^COMMENT ON DATABASE "((?:[^"]|"")+)"/),
      )!.comment = /IS '(.*)'$/.exec(text)![1];
    }
    return { rows: [] };
  }

  async end() {
    this.ended++;
    for (const [key, holder] of this.advisoryLocks) {
      if (holder === this) {
        this.advisoryLocks.delete(key);
      }
    }
  }
}
