import { SqlClient } from '../database/provisionDatabase';

/**
 * A PostgreSQL stand-in that understands just the statements of provisionDatabase: it keeps
 * roles and databases with their comments, and records every statement.
 */
export class FakeSqlClient implements SqlClient {
  readonly statements: string[] = [];
  readonly roles = new Map<string, { comment?: string; password?: string }>();
  readonly databases = new Map<string, { owner: string; comment?: string }>();
  ended = 0;

  async query(text: string, values: unknown[] = []) {
    this.statements.push(text);
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
  }
}
