/*
 * The physical floor of a template run on the stack: what no run can skip. An empty database is
 * migrated (`mlflow db upgrade`, and MLflow's auth database when sign-in is on, as the migration
 * Job does), then an `mlflow server` with the flags the Deployment rendered is started until its
 * first answer that reads the database (experiments search, signed in when sign-in is on).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { StackEnv } from '@internal/stack-env';

/** What the floor needs of the rendered server: its arguments and environment from the ConfigMap. */
export type ServerShape = {
  /** `mlflow` arguments as the Deployment's container has them (`server …`). */
  args: string[];
  /** The ConfigMap the container takes its environment from. */
  configEnv: Record<string, string>;
  signIn: boolean;
};

export type FloorTimes = {
  /** Both databases migrated side by side: the wall time of the pair. */
  migrateMs: number;
  /** The auth database's migration alone, within `migrateMs`. */
  authMigrateMs: number;
  serverMs: number;
  totalMs: number;
};

/** Runs each statement on its own (CREATE/DROP DATABASE refuse a transaction block). */
function superuserSql(env: StackEnv, statements: string[]) {
  const result = spawnSync(
    'psql',
    [
      '-v',
      'ON_ERROR_STOP=1',
      '-Atq',
      '-d',
      'postgres',
      ...statements.flatMap(sql => ['-c', sql]),
    ],
    {
      env: {
        ...process.env,
        PGHOST: env.pgHost,
        PGPORT: String(env.pgPort),
        PGUSER: env.pgUser,
        PGPASSWORD: env.pgPassword,
      },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(`psql failed (${result.status}): ${result.stderr}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; resolves with its wall time, rejects with its output's tail. */
function timed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', d => (output += d));
    child.stderr.on('data', d => (output += d));
    child.once('error', reject);
    child.once('exit', code =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(
            new Error(
              `${command} ${args[0]} exited with ${code}: ${output.slice(
                -2000,
              )}`,
            ),
          ),
    );
  });
}

/**
 * The server's arguments on this machine: loopback and a free port (as the node agent runs it), and
 * that address among the allowed hosts; everything else as rendered.
 */
function localArgs(args: string[], port: number): string[] {
  const local: Record<string, (value: string) => string> = {
    '--host': () => '127.0.0.1',
    '--port': () => String(port),
    '--allowed-hosts': value => `${value},127.0.0.1:${port}`,
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (local[args[i]] && i + 1 < args.length) {
      out.push(args[i], local[args[i]](args[i + 1]));
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/**
 * Measures the floor once, on a fresh database of the stack's PostgreSQL reached over TCP with a
 * login role that owns it (as the Job reaches its database; the stack's own server has no TLS).
 */
export async function measureFloor(
  env: StackEnv,
  shape: ServerShape,
  id: string,
): Promise<FloorTimes> {
  const name = `bench_floor_${id}`.replace(/[^a-z0-9_]/g, '_');
  const password = randomBytes(24).toString('base64url');
  const uri = (db: string) =>
    `postgresql://${name}@${env.pgHost}:${env.pgPort}/${db}?sslmode=disable`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
  superuserSql(env, [
    `CREATE ROLE ${name} LOGIN PASSWORD '${password}'`,
    `CREATE DATABASE ${name} OWNER ${name}`,
    `CREATE DATABASE ${name}_auth OWNER ${name}`,
  ]);
  const processEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...shape.configEnv,
    PGPASSWORD: password,
    MLFLOW_BACKEND_STORE_URI: uri(name),
  };
  let server: ReturnType<typeof spawn> | undefined;
  let looking = true;
  try {
    // The two databases are separate, so both are migrated at once, as the Job's two containers
    // do: the floor's migration is the wall time of the pair.
    const adminPassword = randomBytes(24).toString('base64url');
    const migrationsStarted = performance.now();
    const [, authMigrateMs] = await Promise.all([
      timed(env.mlflowBin, ['db', 'upgrade', uri(name)], processEnv),
      shape.signIn
        ? timed(
            join(dirname(env.mlflowBin), 'python'),
            [
              '-m',
              'mlflow.server.auth',
              'db',
              'upgrade',
              '--url',
              uri(`${name}_auth`),
            ],
            processEnv,
          )
        : Promise.resolve(0),
    ]);
    const migrateMs = performance.now() - migrationsStarted;
    if (shape.signIn) {
      const ini = join(dir, 'basic_auth.ini');
      writeFileSync(
        ini,
        [
          '[mlflow]',
          'default_permission = READ',
          `database_uri = ${uri(`${name}_auth`)}`,
          'admin_username = admin',
          `admin_password = ${adminPassword}`,
          'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
          // As the rendered basic_auth.ini (authSecrets.ts): one password check per login.
          'auth_cache_ttl_seconds = 60',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      processEnv.MLFLOW_AUTH_CONFIG_PATH = ini;
      processEnv.MLFLOW_FLASK_SERVER_SECRET_KEY =
        randomBytes(32).toString('base64url');
    }
    const port = await freePort();
    const started = performance.now();
    server = spawn(env.mlflowBin, localArgs(shape.args, port), {
      env: processEnv,
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise<never>((_, reject) =>
      server!.once('exit', code =>
        reject(new Error(`mlflow server exited with ${code} before answering`)),
      ),
    );
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      ...(shape.signIn
        ? {
            Authorization: `Basic ${Buffer.from(
              `admin:${adminPassword}`,
            ).toString('base64')}`,
          }
        : {}),
    };
    const deepAnswer = async () => {
      while (looking) {
        try {
          const res = await fetch(
            `http://127.0.0.1:${port}/api/2.0/mlflow/experiments/search`,
            {
              method: 'POST',
              headers,
              body: JSON.stringify({ max_results: 1 }),
            },
          );
          if (res.ok) {
            return;
          }
          await res.text();
        } catch {
          // not listening yet
        }
        await new Promise(r => setTimeout(r, 50));
      }
    };
    await Promise.race([deepAnswer(), exited]);
    const serverMs = performance.now() - started;
    return {
      migrateMs,
      authMigrateMs,
      serverMs,
      totalMs: migrateMs + serverMs,
    };
  } finally {
    looking = false;
    if (server?.pid) {
      server.removeAllListeners('exit');
      const gone = new Promise(r => server!.once('exit', r));
      try {
        process.kill(-server.pid, 'SIGTERM');
        await Promise.race([gone, new Promise(r => setTimeout(r, 10_000))]);
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
    superuserSql(env, [
      `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
      `DROP DATABASE IF EXISTS ${name}_auth WITH (FORCE)`,
      `DROP ROLE IF EXISTS ${name}`,
    ]);
  }
}
