import { SqlClient } from './postgresConnection';
import {
  resetAuthLogins,
  werkzeugHashMatches,
  werkzeugPasswordHash,
} from './authLogins';

// Made by Werkzeug 3.1's generate_password_hash (the one MLflow's basic-auth app uses).
const WERKZEUG_SCRYPT =
  'scrypt:32768:8:1$oem2qYScXyMQXJgK$ef4952bb57b7d6028e287da23b609cbc2f579e8f0d57b48b521fba196b3d6a8c6d9789f56bae0c065d6f6902c22cde02974173c26802a6c32848af6ca5508552';
const WERKZEUG_PBKDF2 =
  'pbkdf2:sha256:1000$ULlLOMUIbThResNN$81444d3f288c7c73e1df8ddff7dc8bcb6f188018ddb7d6eaa622d38170094f6b';

/** The users table of MLflow's sign-in database, and every statement sent to it. */
class FakeAuthDatabase implements SqlClient {
  readonly statements: string[] = [];
  constructor(readonly users?: Map<string, string>) {}

  async query(text: string, values: unknown[] = []) {
    this.statements.push(text);
    if (text.includes('to_regclass')) {
      return { rows: [{ present: this.users !== undefined }] };
    }
    if (text.startsWith('SELECT password_hash')) {
      const hash = this.users?.get(String(values[0]));
      return { rows: hash === undefined ? [] : [{ password_hash: hash }] };
    }
    if (text.startsWith('UPDATE users')) {
      this.users?.set(String(values[1]), String(values[0]));
    }
    return { rows: [] };
  }

  async end() {}
}

describe('Werkzeug password hashes', () => {
  it('checks hashes Werkzeug made, scrypt and pbkdf2', () => {
    expect(werkzeugHashMatches(WERKZEUG_SCRYPT, 'correct horse')).toBe(true);
    expect(werkzeugHashMatches(WERKZEUG_SCRYPT, 'wrong horse')).toBe(false);
    expect(werkzeugHashMatches(WERKZEUG_PBKDF2, 'correct horse')).toBe(true);
    expect(werkzeugHashMatches(WERKZEUG_PBKDF2, 'wrong horse')).toBe(false);
    expect(werkzeugHashMatches('plain', 'plain')).toBe(false);
    expect(werkzeugHashMatches('md5$salt$abc', 'x')).toBe(false);
  });

  it("makes hashes in Werkzeug's default format (scrypt:32768:8:1, 16-character salt) that check", () => {
    const hash = werkzeugPasswordHash('s3cret');
    expect(hash).toMatch(/^scrypt:32768:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$/);
    expect(werkzeugHashMatches(hash, 's3cret')).toBe(true);
    expect(werkzeugHashMatches(hash, 's3cret ')).toBe(false);
    expect(werkzeugPasswordHash('s3cret')).not.toBe(hash);
  });
});

describe('resetAuthLogins', () => {
  const logins = [
    { username: 'admin', password: 'new-admin' },
    { username: 'backstage-health', password: 'new-health' },
  ];

  it('does nothing before MLflow made its tables (a new instance)', async () => {
    const db = new FakeAuthDatabase();
    expect(await resetAuthLogins(db, logins)).toEqual([]);
    expect(db.statements).toHaveLength(1);
  });

  it("sets the Secrets' passwords on the restored admin and health user, leaving other users alone", async () => {
    const db = new FakeAuthDatabase(
      new Map([
        ['admin', WERKZEUG_SCRYPT],
        ['backstage-health', WERKZEUG_PBKDF2],
        ['alice', WERKZEUG_SCRYPT],
      ]),
    );
    expect(await resetAuthLogins(db, logins)).toEqual([
      'admin',
      'backstage-health',
    ]);
    expect(werkzeugHashMatches(db.users!.get('admin')!, 'new-admin')).toBe(
      true,
    );
    expect(
      werkzeugHashMatches(db.users!.get('backstage-health')!, 'new-health'),
    ).toBe(true);
    expect(db.users!.get('alice')).toBe(WERKZEUG_SCRYPT);
    // No password travels in a statement's text, only as a parameter (and hashed).
    expect(db.statements.join('\n')).not.toMatch(/new-admin|new-health/);
  });

  it('changes nothing when the passwords already match, or the user does not exist yet', async () => {
    const db = new FakeAuthDatabase(
      new Map([['admin', werkzeugPasswordHash('new-admin')]]),
    );
    const before = db.users!.get('admin');
    expect(await resetAuthLogins(db, logins)).toEqual([]);
    expect(db.users!.get('admin')).toBe(before);
    expect(db.users!.has('backstage-health')).toBe(false);
    expect(db.statements.filter(s => s.startsWith('UPDATE'))).toEqual([]);
  });
});
