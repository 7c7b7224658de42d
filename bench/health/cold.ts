/*
 * Cold health of one instance against the started app and the real stack, side by side with each
 * check's own calls made alone on the same peers, in the same run. A script, not a test:
 *
 *   eval "$(stack/stack env)"
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/health/cold.ts \
 *     [--base-url http://localhost:7007] [--entity component:default/demo] [--samples 5]
 *
 * A cold sample is `GET …?refresh=true` timed at the client, kept only when the report was
 * computed anew (its checkedAt moved); the app allows one refresh per entity per
 * `refreshMinIntervalSeconds`, so the script asks again every second until it is. Before each cold
 * sample, each check's calls are made alone from this process, as the check makes them: the
 * tracking server's four requests at once (`/health`, `/version` and the store read as the health
 * user, an anonymous `/version`), DescribeDBInstances, HeadBucket (bucket settings come from the
 * app's cache on a refresh), the Deployment and Ingress lists of the namespace at once.
 */
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Entity } from '@backstage/catalog-model';
import { readStackAppConfig, readStackEnv } from '@internal/stack-env';
import type { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { lookup } from 'node:dns/promises';
import { parseArgs } from 'node:util';
import {
  backendClient,
  benchTarget,
  round1,
  targetOptions,
} from './backendClient';

const { values: args } = parseArgs({
  options: {
    ...targetOptions,
    samples: { type: 'string', default: '5' },
  },
});

const SAMPLES = Number(args.samples);
const { baseUrl, healthPath, catalogPath: entityPath } = benchTarget(args);
const stack = readStackEnv();
const { call, token, close } = backendClient(baseUrl);

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** One request on a new connection (as the tracking server check makes them); the status. */
function plainRequest(
  url: URL,
  options: { method: string; headers?: Record<string, string>; body?: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method, headers: options.headers, agent: false },
      response => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The stack's cluster as the app reaches it (the overlay's `local` cluster and token). */
function kubernetes() {
  const cluster = readStackAppConfig(stack)
    .config.getConfigArray('kubernetes.clusterLocatorMethods')[0]
    .getConfigArray('clusters')[0];
  const agent = new https.Agent({
    keepAlive: true,
    ca: readFileSync(cluster.getString('caFile')),
  });
  const headers = {
    authorization: `Bearer ${cluster.getString('serviceAccountToken')}`,
  };
  return (path: string) =>
    new Promise<unknown>((resolve, reject) => {
      https
        .get(new URL(path, cluster.getString('url')), { agent, headers }, r => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', chunk => (body += chunk));
          r.on('end', () =>
            r.statusCode === 200
              ? resolve(JSON.parse(body))
              : reject(new Error(`GET ${path}: HTTP ${r.statusCode}`)),
          );
        })
        .on('error', reject);
    });
}

/** Each check's calls for the entity, made alone. */
async function checksAlone(entity: Entity) {
  const a = entity.metadata.annotations ?? {};
  const need = (key: string) => {
    if (!a[key]) {
      throw new Error(`${args.entity} has no annotation ${key}`);
    }
    return a[key];
  };
  const region = need('mlflow.org/aws-region');
  const rds = new RDSClient({ region });
  const s3 = new S3Client({ region });
  const kube = kubernetes();
  const namespace = need('backstage.io/kubernetes-namespace');
  const bucket = new URL(need('mlflow.org/s3-artifact-root')).host;
  const trackingUrl = new URL(need('mlflow.org/tracking-url'));
  const secret = (await kube(
    `/api/v1/namespaces/${namespace}/secrets/${need(
      'mlflow.org/health-secret',
    )}`,
  )) as { data: { username: string; password: string } };
  const decode = (v: string) => Buffer.from(v, 'base64').toString('utf8');
  const basic = `Basic ${Buffer.from(
    `${decode(secret.data.username)}:${decode(secret.data.password)}`,
  ).toString('base64')}`;
  const at = (path: string) => new URL(path, trackingUrl);

  return {
    trackingServer: async () => {
      // The URL guard resolves the host before every check.
      await lookup(trackingUrl.hostname, { all: true });
      await Promise.all([
        plainRequest(at('/health'), { method: 'GET' }),
        plainRequest(at('/version'), {
          method: 'GET',
          headers: { authorization: basic },
        }),
        plainRequest(at('/api/2.0/mlflow/experiments/search'), {
          method: 'POST',
          headers: {
            authorization: basic,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ max_results: 1 }),
        }),
        plainRequest(at('/version'), { method: 'GET' }),
      ]);
    },
    database: () =>
      rds.send(
        new DescribeDBInstancesCommand({
          Filters: [
            {
              Name: 'db-instance-id',
              Values: [need('mlflow.org/rds-instance-id')],
            },
          ],
        }),
      ),
    artifactStore: () => s3.send(new HeadBucketCommand({ Bucket: bucket })),
    kubernetes: () =>
      Promise.all([
        kube(
          `/apis/apps/v1/namespaces/${namespace}/deployments?labelSelector=${encodeURIComponent(
            'app.kubernetes.io/name=mlflow',
          )}`,
        ),
        kube(
          `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses?labelSelector=${encodeURIComponent(
            'app.kubernetes.io/instance',
          )}`,
        ),
      ]),
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main() {
  const headers = { authorization: `Bearer ${await token()}` };
  const found = await call(entityPath, headers);
  if (found.status !== 200) {
    throw new Error(`${entityPath} answered HTTP ${found.status}`);
  }
  const checks = await checksAlone(JSON.parse(found.body) as Entity);
  const ids = Object.keys(checks) as Array<keyof typeof checks>;
  // Warms every client (connections, DNS) on both sides before anything is measured.
  for (const id of ids) {
    await checks[id]();
  }
  let last = (
    JSON.parse((await call(healthPath, headers)).body) as MlflowHealthReport
  ).checkedAt;

  const samples: Array<{
    coldMs: number;
    aloneMs: Record<string, number>;
    inReportMs: Record<string, number>;
  }> = [];
  while (samples.length < SAMPLES) {
    const aloneMs: Record<string, number> = {};
    for (const id of ids) {
      aloneMs[id] = round1(await timed(checks[id]));
    }
    let report: MlflowHealthReport | undefined;
    let coldMs = 0;
    // A refresh the limit refuses answers the cached report at once; ask again until it is anew.
    while (!report) {
      const started = performance.now();
      const answer = await call(`${healthPath}?refresh=true`, headers);
      const ms = performance.now() - started;
      if (answer.status !== 200) {
        throw new Error(`${healthPath} answered HTTP ${answer.status}`);
      }
      const candidate = JSON.parse(answer.body) as MlflowHealthReport;
      if (candidate.checkedAt !== last) {
        report = candidate;
        coldMs = ms;
        last = candidate.checkedAt;
      } else {
        await sleep(1000);
      }
    }
    samples.push({
      coldMs: round1(coldMs),
      aloneMs,
      inReportMs: Object.fromEntries(
        report.checks.map(c => [c.id, c.latencyMs]),
      ),
    });
  }
  close();

  const slowestAlone = samples.map(s => Math.max(...Object.values(s.aloneMs)));
  const coldMedian = median(samples.map(s => s.coldMs));
  const slowestMedian = median(slowestAlone);
  process.stdout.write(
    `${JSON.stringify(
      {
        baseUrl: baseUrl.origin,
        entity: args.entity,
        samples,
        summary: {
          coldMedianMs: round1(coldMedian),
          slowestCheckAloneMedianMs: round1(slowestMedian),
          slowestCheckAloneMedianById: Object.fromEntries(
            ids.map(id => [
              id,
              round1(median(samples.map(s => s.aloneMs[id]))),
            ]),
          ),
          overheadMedianMs: round1(
            median(samples.map((s, i) => s.coldMs - slowestAlone[i])),
          ),
          overheadMaxMs: round1(
            Math.max(...samples.map((s, i) => s.coldMs - slowestAlone[i])),
          ),
          // The report's own cost beyond its slowest check as the app ran it (contention aside).
          overheadOverSlowestInReportMedianMs: round1(
            median(
              samples.map(
                s => s.coldMs - Math.max(...Object.values(s.inReportMs)),
              ),
            ),
          ),
          ratioMedian:
            Math.round(
              median(samples.map((s, i) => s.coldMs / slowestAlone[i])) * 100,
            ) / 100,
        },
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
