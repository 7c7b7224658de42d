/*
 * Benchmark of the MLflow fleet page (plugins/mlflow, /mlflow), run as a script, not a test:
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/fleet-page/run.ts [--rounds 5]
 *
 * The real app (packages/app, built) runs in Debian's Chromium with the real plugin; the two requests
 * the page makes are answered by fixtures at the browser's network layer: the catalog query for MLflow
 * Components (N entities) and the fleet endpoint POST /api/mlflow/v1/health (N reports, each batch
 * after --batch-ms, as a backend answering from its cache). Everything else (sign-in, the app itself)
 * comes from a real backend. For 10 and for 500 instances, alternately in one run, it measures:
 *
 * - in-app: a click on the sidebar item until the first full render (every batch answered, the
 *   region no longer busy, the summary counting all N instances and the first page of rows shown);
 * - full load: opening /mlflow in a fresh page until the same condition (app boot included).
 *
 * It prints one JSON line per measurement and a summary with medians and the 500/10 ratios.
 */
import { parseArgs } from 'node:util';
import { launchChromium, signInAsGuest, useBackstage } from 'e2e-tests';
import type {
  MlflowFleetHealthRequest,
  MlflowFleetHealthResponse,
  MlflowHealthReport,
  MlflowOverallStatus,
} from '@stateful-mlflow/plugin-mlflow-common';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '10,500' },
    'batch-ms': { type: 'string', default: '20' },
  },
});
const ROUNDS = Number(args.rounds);
const SIZES = args.sizes.split(',').map(Number);
const BATCH_MS = Number(args['batch-ms']);

const STATUSES: MlflowOverallStatus[] = [
  'healthy',
  'healthy',
  'healthy',
  'degraded',
  'unhealthy',
  'unknown',
];

function fixtureEntity(i: number) {
  const name = `fleet-${String(i).padStart(4, '0')}`;
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'mlflow.org/tracking-url': `http://${name}.mlflow.localhost`,
        'mlflow.org/aws-region': i % 2 ? 'eu-west-1' : 'us-east-1',
        'mlflow.org/kubernetes-cluster': `cluster-${i % 3}`,
        'mlflow.org/environment': ['dev', 'staging', 'prod'][i % 3],
      },
    },
    spec: { owner: `group:default/team-${i % 7}`, lifecycle: 'production' },
  };
}

function fixtureReport(entityRef: string, i: number): MlflowHealthReport {
  const overall = STATUSES[i % STATUSES.length];
  const status = overall === 'healthy' ? 'ok' : 'warning';
  const flags = [
    { id: 'encrypted', label: 'Storage encrypted', ok: i % 11 !== 0 },
    { id: 'backups', label: 'Automated backups', ok: true },
  ];
  return {
    entityRef,
    overall,
    checkedAt: new Date().toISOString(),
    checks: [
      {
        id: 'trackingServer',
        status,
        summary: 'MLflow answers',
        latencyMs: 20,
        details: {
          url: 'http://x',
          version: `3.${i % 4}.0`,
          live: true,
          backendStoreReachable: true,
        },
      },
      {
        id: 'database',
        status,
        summary: 'available',
        latencyMs: 80,
        details: {
          instanceId: `db-${i}`,
          region: 'eu-west-1',
          compliance: flags,
        },
      },
      {
        id: 'artifactStore',
        status: 'ok',
        summary: 'reachable',
        latencyMs: 40,
        details: {
          bucket: `b-${i}`,
          prefix: 'mlflow',
          region: 'eu-west-1',
          compliance: flags,
        },
      },
      {
        id: 'kubernetes',
        status,
        summary: '2/2 ready',
        latencyMs: 30,
        details: {
          cluster: `cluster-${i % 3}`,
          namespace: 'ml',
          deployment: 'mlflow',
          replicas: { desired: 2, ready: 2, updated: 2, available: 2 },
          conditions: [],
        },
      },
    ],
    links: [],
  };
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** In the page: resolves with performance.now() at the first frame showing all N instances. */
function fullRenderScript(n: number) {
  return `new Promise(resolve => {
    const done = () => {
      const region = document.querySelector('section[aria-label="MLflow fleet"]');
      const summary = document.querySelector('[aria-label="Fleet summary"]');
      return region && region.getAttribute('aria-busy') === 'false' &&
        summary && summary.textContent.startsWith('${n} instance') &&
        region.querySelectorAll('tbody tr').length === ${Math.min(n, 50)};
    };
    const check = () => done() ? resolve(performance.now()) : requestAnimationFrame(check);
    check();
  })`;
}

async function main() {
  const backstage = await useBackstage(process.env.STACK_APP_CONFIG);
  const results: Array<{ n: number; kind: string; ms: number }> = [];
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1600, height: 900 },
    });
    let size = SIZES[0];
    let fleetRequests = 0;
    const entityIndex = new Map<string, number>();
    await context.route('**/api/catalog/entities?**', async route => {
      const url = decodeURIComponent(route.request().url());
      if (!url.includes('mlflow.org/tracking-url')) {
        await route.fallback();
        return;
      }
      const entities = Array.from({ length: size }, (_, i) => fixtureEntity(i));
      entities.forEach((e, i) =>
        entityIndex.set(`component:default/${e.metadata.name}`, i),
      );
      await route.fulfill({ json: entities });
    });
    await context.route('**/api/mlflow/v1/health**', async route => {
      if (route.request().method() !== 'POST') {
        await route.fallback();
        return;
      }
      fleetRequests++;
      const { entityRefs } = route
        .request()
        .postDataJSON() as MlflowFleetHealthRequest;
      await sleep(BATCH_MS);
      const body: MlflowFleetHealthResponse = {
        items: entityRefs.map(ref => ({
          entityRef: ref,
          report: fixtureReport(ref, entityIndex.get(ref) ?? 0),
        })),
      };
      await route.fulfill({ json: body });
    });

    const page = await context.newPage();
    await signInAsGuest(page, backstage.appUrl);
    await page.getByRole('link', { name: 'MLflow fleet' }).first().waitFor();

    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so that neither size always runs first.
      const order = round % 2 ? [...SIZES].reverse() : SIZES;
      for (const n of order) {
        size = n;
        fleetRequests = 0;
        // In-app: a fresh app (no rows kept from a previous visit), then the sidebar click.
        await page.goto(`${backstage.appUrl}/catalog`);
        const link = page.getByRole('link', { name: 'MLflow fleet' }).first();
        await link.waitFor();
        const start = (await page.evaluate('performance.now()')) as number;
        await link.click();
        const end = (await page.evaluate(fullRenderScript(n))) as number;
        results.push({ n, kind: 'in-app', ms: end - start });
        console.log(
          JSON.stringify({
            round,
            n,
            kind: 'in-app',
            ms: Math.round(end - start),
            fleetRequests,
          }),
        );

        // Full load: the URL opened in a new page; time from its navigation start.
        const fresh = await context.newPage();
        await fresh.goto(`${backstage.appUrl}/mlflow`);
        const loaded = (await fresh.evaluate(fullRenderScript(n))) as number;
        await fresh.close();
        results.push({ n, kind: 'full load', ms: loaded });
        console.log(
          JSON.stringify({
            round,
            n,
            kind: 'full load',
            ms: Math.round(loaded),
          }),
        );
      }
    }
  } finally {
    await browser?.close();
    await backstage.stop();
  }

  const summary: Record<string, Record<string, number>> = {};
  for (const kind of ['in-app', 'full load']) {
    const medians = Object.fromEntries(
      SIZES.map(n => [
        n,
        Math.round(
          median(
            results.filter(r => r.kind === kind && r.n === n).map(r => r.ms),
          ),
        ),
      ]),
    );
    summary[kind] = {
      ...medians,
      ratio: Math.round((medians[SIZES[1]] / medians[SIZES[0]]) * 100) / 100,
    };
  }
  console.log(
    JSON.stringify({ rounds: ROUNDS, batchMs: BATCH_MS, medianMs: summary }),
  );
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
