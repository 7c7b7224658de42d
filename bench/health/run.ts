/*
 * Benchmark of the MLflow health API (plugins/mlflow-backend), run as a script, not a test:
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/health/run.ts [--entities 500]
 *
 * The real plugin runs in a test backend (startTestBackend) and is called over HTTP. Its peers are
 * simulated with fixed latencies so the figures measure the plugin, not a network: MLflow servers
 * (one local HTTP server answering every `<name>.mlflow.localhost` host), a Kubernetes API server
 * (local HTTP), and AWS (the SDK clients' `send` replaced, counting calls per API).
 */
import {
  DescribeDBInstancesCommandInput,
  RDSClient,
} from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  CatalogService,
  catalogServiceRef,
} from '@backstage/plugin-catalog-node';
import type { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import mlflowPlugin from '@stateful-mlflow/plugin-mlflow-backend';
import { mlflowDeployment, mlflowEntity, rdsInstance } from './fixtures';

const { values: args } = parseArgs({
  options: {
    entities: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '50' },
    requests: { type: 'string', default: '2000' },
    'mlflow-ms': { type: 'string', default: '20' },
    'rds-ms': { type: 'string', default: '80' },
    's3-ms': { type: 'string', default: '40' },
    'kubernetes-ms': { type: 'string', default: '30' },
  },
});
const ENTITIES = Number(args.entities);
const CONCURRENCY = Number(args.concurrency);
const REQUESTS = Number(args.requests);
const LATENCY = {
  mlflow: Number(args['mlflow-ms']),
  rds: Number(args['rds-ms']),
  s3: Number(args['s3-ms']),
  kubernetes: Number(args['kubernetes-ms']),
};

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/**
 * AWS: the SDK clients' `send` answers after the API's latency and counts the call. A plain
 * replacement rather than aws-sdk-client-mock, whose argument matching would cost the plugin's
 * process more than the plugin itself at 2500 calls.
 */
function simulateAws() {
  const tlsOnlyPolicy = JSON.stringify({
    Statement: [
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });
  const answers: Record<string, (input: never) => unknown> = {
    DescribeDBInstances: (input: DescribeDBInstancesCommandInput) => ({
      DBInstances: (input.Filters?.[0]?.Values ?? []).map(id =>
        rdsInstance(id),
      ),
    }),
    // The last snapshot of one entity's report: none yet.
    DescribeDBSnapshots: () => ({ DBSnapshots: [] }),
    HeadBucket: () => ({}),
    GetBucketTagging: ({ Bucket }: { Bucket: string }) => ({
      TagSet: [
        {
          Key: 'stateful-mlflow/instance',
          Value: Bucket.replace(/-artifacts$/, ''),
        },
      ],
    }),
    GetBucketVersioning: () => ({ Status: 'Enabled' }),
    GetPublicAccessBlock: () => ({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    }),
    GetBucketEncryption: () => ({
      ServerSideEncryptionConfiguration: {
        Rules: [
          { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } },
        ],
      },
    }),
    GetBucketPolicy: () => ({ Policy: tlsOnlyPolicy }),
  };
  let byApi: Record<string, number> = {};
  const send = (latencyMs: number) =>
    async function fakeSend(command: {
      constructor: { name: string };
      input: never;
    }) {
      const api = command.constructor.name.replace(/Command$/, '');
      byApi[api] = (byApi[api] ?? 0) + 1;
      await sleep(latencyMs);
      return answers[api](command.input);
    };
  Object.assign(RDSClient.prototype, { send: send(LATENCY.rds) });
  Object.assign(S3Client.prototype, { send: send(LATENCY.s3) });
  return {
    counts: () => ({ ...byApi }),
    reset: () => {
      byApi = {};
    },
  };
}

/**
 * The simulated peers in a worker thread, so their work does not share the plugin's event loop:
 * one MLflow server answering every `*.mlflow.localhost` host and a Kubernetes API server
 * answering the namespaced and cluster-wide list calls of the check.
 */
async function startPeers(namespaces: string[]) {
  const source = `
    const http = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const { deployments, latency } = workerData;
    const counts = { mlflow: 0, kubernetes: 0 };
    const later = (ms, fn) => setTimeout(fn, ms);
    const mlflow = http.createServer((req, res) => {
      counts.mlflow++;
      req.resume();
      later(latency.mlflow, () => {
        if (req.url === '/health') res.end('OK');
        else if (req.url === '/version') res.end('3.1.0');
        else if (req.url === '/api/2.0/mlflow/experiments/search') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"experiments":[]}');
        } else res.writeHead(404).end();
      });
    });
    const kubernetes = http.createServer((req, res) => {
      counts.kubernetes++;
      const match = /^\\/apis\\/[^/]+\\/v1\\/(?:namespaces\\/([^/]+)\\/)?(deployments|ingresses)/.exec(req.url);
      later(latency.kubernetes, () => {
        if (!match) return res.writeHead(404).end();
        const items = match[2] === 'deployments'
          ? deployments.filter(d => !match[1] || d.metadata.namespace === match[1])
          : [];
        res.writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items }));
      });
    });
    const listen = server => new Promise(r => server.listen(0, '127.0.0.1', () => r(server.address().port)));
    Promise.all([listen(mlflow), listen(kubernetes)]).then(([mlflowPort, kubernetesPort]) =>
      parentPort.postMessage({ mlflowPort, kubernetesPort }));
    parentPort.on('message', () => parentPort.postMessage({ ...counts }));
  `;
  const worker = new Worker(source, {
    eval: true,
    workerData: {
      latency: LATENCY,
      deployments: namespaces.map(n =>
        mlflowDeployment(n, { desired: 2, ready: 2 }),
      ),
    },
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const { mlflowPort, kubernetesPort } = await next<{
    mlflowPort: number;
    kubernetesPort: number;
  }>();
  return {
    mlflowPort,
    kubernetesUrl: `http://127.0.0.1:${kubernetesPort}`,
    counts: () => {
      const answer = next<{ mlflow: number; kubernetes: number }>();
      worker.postMessage('counts');
      return answer;
    },
    stop: () => worker.terminate(),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(
  port: number,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ ms: number; json: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: payload
          ? {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
            }
          : {},
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(
              new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`),
            );
            return;
          }
          resolve({ ms: performance.now() - started, json: JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Closed-loop load from a worker thread; resolves with every request's latency in ms. */
function loadFromWorker(options: {
  port: number;
  path: string;
  concurrency: number;
  requests: number;
}): Promise<number[]> {
  const source = `
    const http = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const { port, path, concurrency, requests } = workerData;
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const latencies = [];
    let sent = 0;
    const one = () => new Promise((resolve, reject) => {
      const started = performance.now();
      http.get({ host: '127.0.0.1', port, path, agent }, res => {
        if (res.statusCode !== 200) reject(new Error('HTTP ' + res.statusCode));
        res.resume();
        res.on('end', () => { latencies.push(performance.now() - started); resolve(); });
      }).on('error', reject);
    });
    const client = async () => { while (sent < requests) { sent++; await one(); } };
    Promise.all(Array.from({ length: concurrency }, client)).then(() => {
      agent.destroy();
      parentPort.postMessage(latencies);
    });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: options });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** The catalog as a map of refs: the bench measures the plugin, not an in-memory catalog's scans. */
function catalogOf(entities: Entity[]) {
  const byRef = new Map(entities.map(e => [stringifyEntityRef(e), e]));
  const catalog: Pick<CatalogService, 'getEntitiesByRefs'> = {
    async getEntitiesByRefs({ entityRefs }) {
      return { items: entityRefs.map(ref => byRef.get(ref)) };
    },
  };
  return createServiceFactory({
    service: catalogServiceRef,
    deps: {},
    factory: () => catalog as CatalogService,
  });
}

async function main() {
  const aws = simulateAws();
  const names = Array.from({ length: ENTITIES }, (_, i) => `ml-${i}`);
  const peers = await startPeers(names);
  const entities = names.map(name =>
    mlflowEntity(name, {
      'mlflow.org/tracking-url': `http://${name}.mlflow.localhost:${peers.mlflowPort}`,
    }),
  );

  const { server } = await startTestBackend({
    features: [
      mlflowPlugin,
      catalogOf(entities),
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007' },
          aws: {
            mainAccount: { accessKeyId: 'bench', secretAccessKey: 'bench' },
          },
          kubernetes: {
            clusterLocatorMethods: [
              {
                type: 'config',
                clusters: [
                  {
                    name: 'local',
                    url: peers.kubernetesUrl,
                    authProvider: 'serviceAccount',
                    serviceAccountToken: 'bench',
                    skipTLSVerify: true,
                  },
                ],
              },
            ],
          },
          mlflow: {
            health: {
              allowedTrackingHosts: ['*.localhost'],
              refreshMinIntervalSeconds: 0,
            },
          },
        },
      }),
    ],
  });
  const port = (server.address() as AddressInfo).port;
  const results: Record<string, unknown> = {
    simulatedLatencyMs: LATENCY,
  };

  // Fleet: every entity with nothing cached, then a refresh of all of them.
  const refs = names.map(n => `component:default/${n}`);
  aws.reset();
  const before = await peers.counts();
  const fleetCold = await call(port, 'POST', '/api/mlflow/v1/health', {
    entityRefs: refs,
  });
  const fleetItems = (
    fleetCold.json as { items: Array<{ report?: MlflowHealthReport }> }
  ).items;
  results.fleetCold = {
    entities: refs.length,
    ms: Math.round(fleetCold.ms),
    healthy: fleetItems.filter(i => i.report?.overall === 'healthy').length,
    awsCallsByApi: aws.counts(),
    mlflowRequests: (await peers.counts()).mlflow - before.mlflow,
    kubernetesRequests: (await peers.counts()).kubernetes - before.kubernetes,
  };

  aws.reset();
  const beforeRefresh = await peers.counts();
  const fleetRefresh = await call(
    port,
    'POST',
    '/api/mlflow/v1/health?refresh=true',
    {
      entityRefs: refs,
    },
  );
  results.fleetRefresh = {
    entities: refs.length,
    ms: Math.round(fleetRefresh.ms),
    awsCallsByApi: aws.counts(),
    mlflowRequests: (await peers.counts()).mlflow - beforeRefresh.mlflow,
    kubernetesRequests:
      (await peers.counts()).kubernetes - beforeRefresh.kubernetes,
  };

  // Cold: one entity, every check runs (refresh); compared with the slowest check of the report.
  const cold: Array<{ total: number; slowest: number }> = [];
  for (let i = 0; i < 20; i++) {
    const { ms, json } = await call(
      port,
      'GET',
      '/api/mlflow/v1/health/default/component/ml-0?refresh=true',
    );
    const report = json as MlflowHealthReport;
    cold.push({
      total: ms,
      slowest: Math.max(...report.checks.map(c => c.latencyMs)),
    });
  }
  const coldTotals = cold.map(c => c.total).sort((a, b) => a - b);
  const coldOverheads = cold
    .map(c => c.total - c.slowest)
    .sort((a, b) => a - b);
  results.coldSingle = {
    samples: cold.length,
    p50Ms: round(percentile(coldTotals, 50)),
    p95Ms: round(percentile(coldTotals, 95)),
    slowestCheckMedianMs: round(
      percentile(
        cold.map(c => c.slowest).sort((a, b) => a - b),
        50,
      ),
    ),
    overheadOverSlowestCheckP50Ms: round(percentile(coldOverheads, 50)),
    overheadOverSlowestCheckMaxMs: round(
      coldOverheads[coldOverheads.length - 1],
    ),
    ratioP50: round(
      percentile(
        cold.map(c => c.total / c.slowest).sort((a, b) => a - b),
        50,
      ),
    ),
  };

  // Warm: the report is cached; CONCURRENCY clients in a worker thread (their own event loop,
  // as real clients would be) send REQUESTS requests in total.
  await call(port, 'GET', '/api/mlflow/v1/health/default/component/ml-1');
  const warmStarted = performance.now();
  const warm = await loadFromWorker({
    port,
    path: '/api/mlflow/v1/health/default/component/ml-1',
    concurrency: CONCURRENCY,
    requests: REQUESTS,
  });
  const warmSeconds = (performance.now() - warmStarted) / 1000;
  warm.sort((a, b) => a - b);
  results.warm = {
    concurrency: CONCURRENCY,
    requests: warm.length,
    p50Ms: round(percentile(warm, 50)),
    p95Ms: round(percentile(warm, 95)),
    p99Ms: round(percentile(warm, 99)),
    requestsPerSecond: Math.round(warm.length / warmSeconds),
  };

  // The same with one client: the time a warm request costs when it does not queue.
  const single = await loadFromWorker({
    port,
    path: '/api/mlflow/v1/health/default/component/ml-1',
    concurrency: 1,
    requests: 500,
  });
  single.sort((a, b) => a - b);
  results.warmOneClient = {
    requests: single.length,
    p50Ms: round(percentile(single, 50)),
    p95Ms: round(percentile(single, 95)),
  };

  console.log(JSON.stringify(results, null, 2));
  agent.destroy();
  await peers.stop();
  server.close();
  process.exit(0);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
