import {
  pbkdf2Sync,
  randomInt,
  scryptSync,
  timingSafeEqual,
} from 'node:crypto';
import { ClientConfig } from 'pg';
import { StepDeadline } from '../util/stepDeadline';
import { SqlClient, SqlConnector, withPostgres } from './postgresConnection';

/** A login of MLflow's basic-auth app, as its Secret holds it. */
export type AuthLogin = { username: string; password: string };

const SALT_CHARS =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** scrypt with Werkzeug's parameters: N=2^15, r=8, p=1, 64 bytes. */
function scryptHex(
  password: string,
  salt: string,
  n: number,
  r: number,
  p: number,
) {
  return scryptSync(password, salt, 64, {
    N: n,
    r,
    p,
    maxmem: 256 * n * r * p,
  }).toString('hex');
}

/**
 * A password hash in Werkzeug's format (`scrypt:32768:8:1$<salt>$<hex>`), the one MLflow's
 * basic-auth app stores and checks with `check_password_hash`.
 */
export function werkzeugPasswordHash(password: string): string {
  const salt = Array.from(
    { length: 16 },
    () => SALT_CHARS[randomInt(SALT_CHARS.length)],
  ).join('');
  return `scrypt:32768:8:1$${salt}$${scryptHex(password, salt, 32768, 8, 1)}`;
}

/** Whether `password` matches a Werkzeug hash (scrypt or pbkdf2); anything else does not. */
export function werkzeugHashMatches(hash: string, password: string): boolean {
  const [method, salt, expected] = hash.split('$', 3);
  if (salt === undefined || !expected) {
    return false;
  }
  const [kind, ...args] = method.split(':');
  let actual: string;
  if (kind === 'scrypt') {
    const [n, r, p] = args.length ? args.map(Number) : [32768, 8, 1];
    actual = scryptHex(password, salt, n, r, p);
  } else if (kind === 'pbkdf2') {
    const digest = args[0] ?? 'sha256';
    const iterations = Number(args[1] ?? 600_000);
    actual = pbkdf2Sync(
      password,
      salt,
      iterations,
      digestLength(digest),
      digest,
    ).toString('hex');
  } else {
    return false;
  }
  return (
    actual.length === expected.length &&
    timingSafeEqual(Buffer.from(actual), Buffer.from(expected))
  );
}

function digestLength(digest: string): number {
  return { sha1: 20, sha256: 32, sha512: 64 }[digest] ?? 32;
}

/**
 * Makes MLflow's sign-in database accept the logins its Secrets hold. A database restored from a
 * snapshot (or whose Secrets were deleted and generated again) keeps the users it had, and MLflow
 * creates its admin only when none exists, so without this the new Secrets would not sign in.
 * Sets the password hash of each login whose user exists and whose hash does not match; a user
 * that does not exist is left to MLflow (the admin) and the deploy step (the health user). Before
 * MLflow's first migration the database has no users table and nothing is done.
 *
 * @returns the usernames whose password was reset
 */
export async function resetAuthLogins(
  client: SqlClient,
  logins: AuthLogin[],
): Promise<string[]> {
  const table = await client.query(
    `SELECT to_regclass('public.users') IS NOT NULL AS present`,
  );
  if (table.rows[0]?.present !== true) {
    return [];
  }
  const reset: string[] = [];
  for (const login of logins) {
    const found = await client.query(
      'SELECT password_hash FROM users WHERE username = $1',
      [login.username],
    );
    if (found.rows.length === 0) {
      continue;
    }
    const current = String(found.rows[0].password_hash ?? '');
    if (werkzeugHashMatches(current, login.password)) {
      continue;
    }
    await client.query(
      'UPDATE users SET password_hash = $1 WHERE username = $2',
      [werkzeugPasswordHash(login.password), login.username],
    );
    reset.push(login.username);
  }
  return reset;
}

/**
 * Connects to the sign-in database as the instance's own role (it owns MLflow's tables) and
 * resets the logins there, logging whose password it set (never the password).
 */
export async function resetAuthLoginsAsOwner(o: {
  connect: SqlConnector;
  config: ClientConfig;
  logins: AuthLogin[];
  deadline?: StepDeadline;
  log: (message: string) => void;
}): Promise<void> {
  const reset = await withPostgres(o.connect, o.config, o.deadline, client =>
    resetAuthLogins(client, o.logins),
  );
  for (const username of reset) {
    o.log(
      `MLflow's sign-in database ${o.config.database} had user ${username} with another password (restored from a snapshot, or its Secret was generated again): set to the password in its Secret`,
    );
  }
}
