import { AddressInfo } from 'node:net';
import { createServer, IncomingMessage, Server } from 'node:http';
import { DEMO_TEMPLATE_REF, provisionDemo } from './provisionDemo';

/** A stand-in for the backend's readiness, guest sign-in, catalog and scaffolder routes. */
function fakeBackend(options: {
  mlflowComponents: string[];
  taskError?: string;
}) {
  const created: unknown[] = [];
  const readBody = (req: IncomingMessage) =>
    new Promise<string>(resolve => {
      let body = '';
      req.on('data', chunk => {
        body += chunk;
      });
      req.on('end', () => resolve(body));
    });
  const server: Server = createServer(async (req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = req.url ?? '';
    if (url === '/.backstage/health/v1/readiness') {
      json(200, { status: 'ok' });
    } else if (url.startsWith('/api/auth/guest/refresh')) {
      json(200, { backstageIdentity: { token: 'guest-token' } });
    } else if (
      url === '/api/catalog/entities/by-name/template/default/mlflow-production'
    ) {
      json(200, { kind: 'Template' });
    } else if (url.startsWith('/api/catalog/entities/by-query')) {
      json(200, {
        items: options.mlflowComponents.map(name => ({ metadata: { name } })),
      });
    } else if (req.method === 'POST' && url === '/api/scaffolder/v2/tasks') {
      created.push(JSON.parse(await readBody(req)));
      json(201, { id: 'task-1' });
    } else if (url.startsWith('/api/scaffolder/v2/tasks/task-1/events')) {
      json(200, [
        { id: 1, type: 'log', body: { message: 'Beginning step Plan' } },
        {
          id: 2,
          type: 'completion',
          body: options.taskError
            ? { error: { name: 'InputError', message: options.taskError } }
            : {
                output: {
                  links: [
                    { title: 'MLflow UI', url: 'http://demo.mlflow.localhost' },
                  ],
                },
              },
        },
      ]);
    } else {
      json(404, { url });
    }
  });
  return {
    created,
    async start() {
      await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stop: () => new Promise(r => server.close(r)),
  };
}

async function run(
  backend: ReturnType<typeof fakeBackend>,
  settle: {
    catalogSettleMs: number;
    clusterHasInstances?: () => Promise<boolean>;
  } = { catalogSettleMs: 0 },
) {
  const baseUrl = await backend.start();
  const lines: string[] = [];
  try {
    const result = await provisionDemo({
      baseUrl,
      appUrl: 'http://localhost:3000',
      region: 'eu-west-1',
      readyTimeoutMs: 5_000,
      ...settle,
      taskTimeoutMs: 5_000,
      log: line => lines.push(line),
    });
    return { result, lines };
  } finally {
    await backend.stop();
  }
}

describe('provisionDemo', () => {
  it('creates nothing when the catalog already shows an MLflow instance', async () => {
    const backend = fakeBackend({ mlflowComponents: ['team-a'] });
    const { result, lines } = await run(backend);
    expect(result).toBe('exists');
    expect(backend.created).toEqual([]);
    expect(lines.join('\n')).toContain('already in the catalog: team-a');
  });

  it('runs the template for the demo instance when there is none, logging its progress', async () => {
    const backend = fakeBackend({ mlflowComponents: [] });
    const { result, lines } = await run(backend);
    expect(result).toBe('created');
    expect(backend.created).toEqual([
      {
        templateRef: DEMO_TEMPLATE_REF,
        values: expect.objectContaining({
          name: 'demo',
          cluster: 'local',
          hostname: 'demo.mlflow.localhost',
        }),
      },
    ]);
    const log = lines.join('\n');
    expect(log).toContain('http://localhost:3000/create/tasks/task-1');
    expect(log).toContain('  Beginning step Plan');
    expect(log).toMatch(
      /Demo instance ready .*MLflow UI http:\/\/demo\.mlflow\.localhost/,
    );
  });

  it('creates the demo without waiting for the catalog when the cluster runs no MLflow Deployment', async () => {
    const backend = fakeBackend({ mlflowComponents: [] });
    const clusterHasInstances = jest.fn(async () => false);
    const started = Date.now();
    // A settle wait of a minute would outlast the test's timeout.
    const { result } = await run(backend, {
      catalogSettleMs: 60_000,
      clusterHasInstances,
    });
    expect(result).toBe('created');
    expect(clusterHasInstances).toHaveBeenCalledTimes(1);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('fails with the task error when the run fails', async () => {
    const backend = fakeBackend({
      mlflowComponents: [],
      taskError: 'Invalid cluster: received "local"',
    });
    await expect(run(backend)).rejects.toThrow(
      /The demo task failed: Invalid cluster: received "local"/,
    );
  });
});
