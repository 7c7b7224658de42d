import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { REPO_ROOT } from './lib/startBackend';

/*
 * Installs the packed plugins into an app made by @backstage/create-app, exactly as the READMEs
 * say, type-checks it, starts its backend and calls the plugins. Slow (packing, a fresh yarn
 * install): the packages come from the global yarn cache under the tools dir after the first run.
 */

const MINUTE = 60_000;
const PLUGIN_READMES = [
  'plugins/mlflow-backend/README.md',
  'plugins/catalog-backend-module-mlflow/README.md',
  'plugins/scaffolder-backend-module-mlflow/README.md',
  'plugins/mlflow/README.md',
];

/** Runs a command with the repository's environment (scripts/env.sh: Node, Yarn, registry, cache). */
function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(
    'bash',
    ['-c', `source "${REPO_ROOT}/scripts/env.sh" && ${command}`],
    {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `\`${command}\` in ${cwd} exited with ${
        result.status
      }:\n${`${result.stdout}\n${result.stderr}`.slice(-6000)}`,
    );
  }
  return result.stdout;
}

/** The install commands of a README: `yarn --cwd packages/x add …` and `backend.add(import(…))`. */
function readInstallSteps(readme: string) {
  const adds: { workspace: string; packageName: string }[] = [];
  const backendLines: string[] = [];
  for (const line of readme.split('\n').map(l => l.trim())) {
    const add =
      /^yarn --cwd packages\/(app|backend) add (@stateful-mlflow\/[\w-]+)$/.exec(
        line,
      );
    if (add) {
      adds.push({ workspace: add[1], packageName: add[2] });
    }
    if (/^backend\.add\(import\('@stateful-mlflow\/[\w-]+'\)\);$/.test(line)) {
      backendLines.push(line);
    }
  }
  return { adds, backendLines };
}

/** A README that no longer says what this test follows fails the set-up, naming what it found. */
function must(ok: boolean, what: string, found: unknown) {
  if (!ok) {
    throw new Error(`${what}; found ${JSON.stringify(found)}`);
  }
}

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

describe('the packed plugins in a fresh Backstage app', () => {
  const work = mkdtempSync(join(tmpdir(), 'fresh-app-'));
  const packs = join(work, 'packs');
  const app = join(work, 'app');
  const token = randomBytes(24).toString('hex');
  let baseUrl = '';
  let output = '';
  let stopBackend: () => Promise<void> = async () => {};

  beforeAll(async () => {
    sh(`scripts/pack-plugins "${packs}"`, REPO_ROOT);
    const tarball = (name: string) => {
      const file = `${name.replace('/', '-')}-`;
      const found = readdirSync(packs).find(
        f => f.startsWith(file) && /^\d/.test(f.slice(file.length)),
      );
      if (!found) {
        throw new Error(`scripts/pack-plugins wrote no tarball for ${name}`);
      }
      return join(packs, found);
    };

    const registry = sh('npm config get registry', work).trim();
    sh(
      `npx --yes --registry "${registry}" @backstage/create-app@latest --skip-install --path "${app}"`,
      work,
      { BACKSTAGE_APP_NAME: 'fresh-app' },
    );

    // "Bring an older app to 1.57 first": versions:bump, with the release manifest made from this
    // repository's own @backstage packages (the release's manifest service is not reachable here).
    const release = JSON.parse(
      readFileSync(join(REPO_ROOT, 'backstage.json'), 'utf8'),
    ).version;
    const scope = join(REPO_ROOT, 'node_modules/@backstage');
    const manifest = join(work, 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        releaseVersion: release,
        packages: readdirSync(scope)
          .filter(n => existsSync(join(scope, n, 'package.json')))
          .map(n => ({
            name: `@backstage/${n}`,
            version: JSON.parse(
              readFileSync(join(scope, n, 'package.json'), 'utf8'),
            ).version,
          })),
      }),
    );
    sh(
      `node "${join(
        scope,
        'cli/bin/backstage-cli',
      )}" versions:bump --skip-install`,
      app,
      { BACKSTAGE_MANIFEST_FILE: manifest },
    );

    // The root README's resolutions for the two libraries, pointing at this run's tarballs.
    const rootReadme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const resolutions = [
      ...rootReadme.matchAll(
        /"(@stateful-mlflow\/[\w-]+)": "file:\/path\/to\/packs\/[^"]+"/g,
      ),
    ].map(m => m[1]);
    must(
      resolutions.sort().join() ===
        '@stateful-mlflow/plugin-mlflow-common,@stateful-mlflow/plugin-mlflow-node',
      'README.md maps the two libraries in resolutions',
      resolutions,
    );
    const rootPkgPath = join(app, 'package.json');
    const rootPkg = JSON.parse(readFileSync(rootPkgPath, 'utf8'));
    rootPkg.resolutions = {
      ...rootPkg.resolutions,
      ...Object.fromEntries(resolutions.map(n => [n, `file:${tarball(n)}`])),
    };
    writeFileSync(rootPkgPath, `${JSON.stringify(rootPkg, null, 2)}\n`);

    // Each plugin README's `yarn add`, with the tarball in place of the name.
    const steps = PLUGIN_READMES.map(readme =>
      readInstallSteps(readFileSync(join(REPO_ROOT, readme), 'utf8')),
    );
    const adds = steps.flatMap(s => s.adds);
    must(
      adds.length === PLUGIN_READMES.length,
      'each plugin README has one `yarn --cwd packages/… add` line',
      adds,
    );
    for (const workspace of ['backend', 'app']) {
      const specs = adds
        .filter(a => a.workspace === workspace)
        .map(a => `"${a.packageName}@file:${tarball(a.packageName)}"`);
      sh(`yarn --cwd packages/${workspace} add ${specs.join(' ')}`, app);
    }

    // The README's backend.add lines, before the backend starts.
    const backendLines = steps.flatMap(s => s.backendLines);
    must(
      backendLines.length === PLUGIN_READMES.length - 1,
      'each backend plugin README has one backend.add line',
      backendLines,
    );
    const indexPath = join(app, 'packages/backend/src/index.ts');
    const index = readFileSync(indexPath, 'utf8');
    must(
      index.includes('backend.start();'),
      "the fresh app's backend ends with backend.start()",
      index.slice(-200),
    );
    writeFileSync(
      indexPath,
      index.replace(
        'backend.start();',
        `${backendLines.join('\n')}\n\nbackend.start();`,
      ),
    );
  }, 60 * MINUTE);

  afterAll(async () => {
    await stopBackend();
    if (!process.env.KEEP_FRESH_APP) {
      rmSync(work, { recursive: true, force: true });
    }
  }, MINUTE);

  it(
    'type-checks with the plugins installed',
    () => {
      expect(() => sh('yarn tsc', app)).not.toThrow();
    },
    20 * MINUTE,
  );

  describe('its backend', () => {
    beforeAll(async () => {
      const port = await freePort();
      baseUrl = `http://localhost:${port}`;
      const overlay = join(work, 'app-config.test.yaml');
      mkdirSync(work, { recursive: true });
      writeFileSync(
        overlay,
        stringify({
          backend: {
            baseUrl,
            listen: { port, host: '127.0.0.1' },
            auth: {
              externalAccess: [
                {
                  type: 'static',
                  options: { token, subject: 'fresh-app-test' },
                },
              ],
            },
          },
          // Without the stack a cluster that answers nothing: the provider is still registered.
          ...(process.env.STACK_APP_CONFIG
            ? {}
            : {
                kubernetes: {
                  serviceLocatorMethod: { type: 'multiTenant' },
                  clusterLocatorMethods: [
                    {
                      type: 'config',
                      clusters: [
                        {
                          name: 'unreachable',
                          url: 'https://127.0.0.1:1',
                          authProvider: 'serviceAccount',
                          serviceAccountToken: 'unused',
                        },
                      ],
                    },
                  ],
                },
              }),
        }),
      );
      const configs = [
        join(app, 'app-config.yaml'),
        ...(process.env.STACK_APP_CONFIG ? [process.env.STACK_APP_CONFIG] : []),
        overlay,
      ];
      const child = spawn(
        process.execPath,
        [
          '--require',
          require.resolve('@backstage/cli-node/config/nodeTransform.cjs', {
            paths: [join(app, 'packages/backend')],
          }),
          'src/index.ts',
          ...configs.flatMap(c => ['--config', c]),
        ],
        {
          cwd: join(app, 'packages/backend'),
          env: { ...process.env, NODE_ENV: 'development' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout.on('data', c => (output += c.toString()));
      child.stderr.on('data', c => (output += c.toString()));
      stopBackend = async () => {
        if (child.exitCode === null) {
          const exited = new Promise(r => child.once('exit', r));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
      };
      const deadline = Date.now() + 5 * MINUTE;
      for (;;) {
        if (child.exitCode !== null) {
          throw new Error(
            `The fresh app's backend exited with ${
              child.exitCode
            }:\n${output.slice(-6000)}`,
          );
        }
        const ready = await fetch(`${baseUrl}/.backstage/health/v1/readiness`)
          .then(r => r.ok)
          .catch(() => false);
        if (ready) {
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `The fresh app's backend was not ready in 5 minutes:\n${output.slice(
              -6000,
            )}`,
          );
        }
        await new Promise(r => setTimeout(r, 1000));
      }
    }, 6 * MINUTE);

    const get = (path: string, init: RequestInit = {}) =>
      fetch(`${baseUrl}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      });

    it('lists the MLflow scaffolder actions', async () => {
      const res = await get('/api/scaffolder/v2/actions');
      expect(res.status).toBe(200);
      const actions = (await res.json()) as { id: string }[];
      expect(actions.map(a => a.id)).toEqual(
        expect.arrayContaining([
          'mlflow:instance:plan',
          'mlflow:s3:create',
          'mlflow:rds:create',
          'mlflow:database:create',
          'mlflow:iam:createRole',
          'mlflow:kubernetes:deploy',
        ]),
      );
    });

    it('answers on the health route', async () => {
      const entityRef = 'component:default/not-in-this-catalog';
      const res = await get('/api/mlflow/v1/health', {
        method: 'POST',
        body: JSON.stringify({ entityRefs: [entityRef] }),
      });
      expect(res.status).toBe(200);
      // The plugin's own per-item answer: the catalog of the fresh app has no such entity.
      expect(await res.json()).toEqual({
        items: [
          expect.objectContaining({
            entityRef,
            error: expect.objectContaining({ name: 'NotFoundError' }),
          }),
        ],
      });
    });

    it('registers the MLflow entity provider with the catalog', async () => {
      const res = await get('/api/catalog/.backstage/scheduler/v1/tasks');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { tasks: { taskId: string }[] };
      expect(body.tasks.map(t => t.taskId)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^MlflowEntityProvider:[^:]+:refresh$/),
        ]),
      );
    });
  });
});
