import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readStackEnv } from '@internal/stack-env';
import { stringify } from 'yaml';
import { waitForEntity } from './catalogEntities';
import { ScaffolderClient } from './scaffolderClient';

/** The repository root, found from this file (packages/e2e-tests/src/lib). */
// eslint-disable-next-line no-restricted-syntax -- test code, never bundled: __dirname is the source dir
export const REPO_ROOT = resolve(__dirname, '../../../..');

/** A real Backstage backend (packages/backend) running as a child process. */
export type StartedBackend = {
  baseUrl: string;
  /** Everything the backend printed so far. */
  output(): string;
  /** A guest user's Backstage token, as the app obtains it at sign-in. */
  guestToken(): Promise<string>;
  stop(): Promise<void>;
  /** Ends the process at once (SIGKILL), as a crash or an OOM kill would: no shutdown hooks run. */
  kill(): Promise<void>;
};

export type StartBackendOptions = {
  /** Config files after app-config.yaml (absolute paths), e.g. the stack overlay. */
  configPaths?: string[];
  /** Serve the built app (packages/app/dist) from the backend, as in production. */
  appServedByBackend?: boolean;
  /** Config merged last, e.g. to point a plugin at a test fixture. */
  extraConfig?: Record<string, unknown>;
  timeoutMs?: number;
};

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilReady(
  baseUrl: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `The backend exited with code ${
          child.exitCode
        } before it was ready:\n${output().slice(-4000)}`,
      );
    }
    try {
      const res = await fetch(`${baseUrl}/.backstage/health/v1/readiness`);
      if (res.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(
    `The backend was not ready within ${timeoutMs} ms:\n${output().slice(
      -4000,
    )}`,
  );
}

/**
 * Starts packages/backend the way `backstage-cli package start` does (Node with Backstage's
 * TypeScript transform), on a free port, with app-config.yaml plus the given config.
 */
export async function startBackend(
  options: StartBackendOptions = {},
): Promise<StartedBackend> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'e2e-backend-'));
  // Two files, merged deeply by the config loader: extraConfig may set other backend.* keys.
  const extra = join(dir, 'app-config.extra.yaml');
  writeFileSync(extra, stringify(options.extraConfig ?? {}));
  const overlay = join(dir, 'app-config.test.yaml');
  writeFileSync(
    overlay,
    stringify({
      backend: { baseUrl, listen: { port, host: '127.0.0.1' } },
      ...(options.appServedByBackend ? { app: { baseUrl } } : {}),
    }),
  );
  const configArgs = [
    join(REPO_ROOT, 'app-config.yaml'),
    ...(options.configPaths ?? []),
    extra,
    overlay,
  ].flatMap(path => ['--config', path]);

  let printed = '';
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--require',
      require.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
      'src/index.ts',
      ...configArgs,
    ],
    {
      cwd: join(REPO_ROOT, 'packages/backend'),
      env: { ...process.env, NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', chunk => {
    printed += chunk.toString();
  });
  child.stderr?.on('data', chunk => {
    printed += chunk.toString();
  });
  const output = () => printed;

  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };

  try {
    await waitUntilReady(baseUrl, child, output, options.timeoutMs ?? 180_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    baseUrl,
    output,
    stop,
    kill,
    async guestToken() {
      const res = await fetch(
        `${baseUrl}/api/auth/guest/refresh?env=development`,
        { headers: { 'X-Requested-With': 'XMLHttpRequest' } },
      );
      if (!res.ok) {
        throw new Error(
          `Guest sign-in failed: ${res.status} ${await res.text()}`,
        );
      }
      const body = (await res.json()) as {
        backstageIdentity?: { token?: string };
      };
      const token = body.backstageIdentity?.token;
      if (!token) {
        throw new Error('Guest sign-in answered without a Backstage token');
      }
      return token;
    },
  };
}

/**
 * A backend on the stack's config overlay with a guest's token and scaffolder client, once each of
 * `templates` is in its catalog; the backend is stopped again when that wait fails.
 */
export async function startStackBackend(options: {
  templates: string[];
  /** The MLflow catalog provider's refresh (`mlflow.catalog.refreshIntervalSeconds`). */
  catalogRefreshSeconds?: number;
}): Promise<{
  backend: StartedBackend;
  token: string;
  scaffolder: ScaffolderClient;
}> {
  const backend = await startBackend({
    configPaths: [readStackEnv().appConfigPath],
    extraConfig:
      options.catalogRefreshSeconds === undefined
        ? undefined
        : {
            mlflow: {
              catalog: {
                refreshIntervalSeconds: options.catalogRefreshSeconds,
              },
            },
          },
  });
  try {
    const token = await backend.guestToken();
    for (const name of options.templates) {
      await waitForEntity(backend.baseUrl, token, { kind: 'template', name });
    }
    return {
      backend,
      token,
      scaffolder: new ScaffolderClient(backend.baseUrl, token),
    };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}
