/*
 * Warm health against a started backend, side by side with the catalog's by-name route and the
 * liveness route: same HTTP client (keep-alive), same concurrency, interleaved rounds. A script,
 * not a test:
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/health/warm.ts \
 *     [--base-url http://localhost:7007] [--entity component:default/demo] \
 *     [--concurrency 1,50] [--rounds 5] [--requests 200]
 *
 * Credentials: $BACKSTAGE_TOKEN when set, else a guest token from the backend's guest provider.
 */
import { parseArgs } from 'node:util';
import {
  backendClient,
  benchTarget,
  percentile,
  round1,
  targetOptions,
} from './backendClient';

const { values: args } = parseArgs({
  options: {
    ...targetOptions,
    concurrency: { type: 'string', default: '1,50' },
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '200' },
  },
});

const { baseUrl, healthPath, catalogPath } = benchTarget(args);
const ROUNDS = Number(args.rounds);
const REQUESTS = Number(args.requests);
const CONCURRENCIES = args.concurrency!.split(',').map(Number);

const ROUTES = {
  health: healthPath,
  catalog: catalogPath,
  liveness: '/.backstage/health/v1/liveness',
} as const;
type Route = keyof typeof ROUTES;

const { call, token, close } = backendClient(baseUrl);

/** `requests` calls of one route by `concurrency` closed-loop clients; the latencies in ms. */
async function load(
  path: string,
  headers: Record<string, string>,
  concurrency: number,
  requests: number,
): Promise<number[]> {
  const latencies: number[] = [];
  let left = requests;
  const client = async () => {
    while (left-- > 0) {
      const started = performance.now();
      const { status } = await call(path, headers);
      latencies.push(performance.now() - started);
      if (status !== 200) {
        throw new Error(`${path} answered HTTP ${status}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return latencies;
}

async function main() {
  const headers = { authorization: `Bearer ${await token()}` };
  for (const path of Object.values(ROUTES)) {
    // Warms the report cache and every connection pool before anything is measured.
    await load(path, headers, 1, 3);
  }
  const results: Record<string, unknown> = {};
  for (const concurrency of CONCURRENCIES) {
    const samples: Record<Route, number[]> = {
      health: [],
      catalog: [],
      liveness: [],
    };
    const routes = Object.keys(ROUTES) as Route[];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated order, so no route always runs first (or right after another).
      const order = routes.map((_, i) => routes[(i + round) % routes.length]);
      for (const route of order) {
        samples[route].push(
          ...(await load(ROUTES[route], headers, concurrency, REQUESTS)),
        );
      }
    }
    const figuresOf = (route: Route) => {
      const sorted = [...samples[route]].sort((a, b) => a - b);
      return {
        p50: round1(percentile(sorted, 50)),
        p95: round1(percentile(sorted, 95)),
        p99: round1(percentile(sorted, 99)),
        n: sorted.length,
      };
    };
    const figures = {
      health: figuresOf('health'),
      catalog: figuresOf('catalog'),
      liveness: figuresOf('liveness'),
    };
    results[`concurrency ${concurrency}`] = {
      ...figures,
      healthToCatalog: {
        p50: round1(figures.health.p50 / figures.catalog.p50),
        p95: round1(figures.health.p95 / figures.catalog.p95),
        p99: round1(figures.health.p99 / figures.catalog.p99),
      },
    };
  }
  close();
  process.stdout.write(
    `${JSON.stringify(
      {
        baseUrl: baseUrl.origin,
        entity: args.entity,
        rounds: ROUNDS,
        requestsPerRoundAndRoute: REQUESTS,
        results,
      },
      null,
      2,
    )}\n`,
  );
}

main().catch(error => {
  process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
