/*
 * The figures of one bench/health/bench.sh run as the rows of docs/benchmarks.md ("Health"), each
 * with its ratio and whether it holds the issue's bound:
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/health/summary.ts <results dir>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Figures = { p50: number; p95: number; p99: number };
type Warm = {
  results: Record<
    string,
    { health: Figures; catalog: Figures; liveness: Figures }
  >;
};
type Cold = {
  summary: {
    coldMedianMs: number;
    slowestCheckAloneMedianMs: number;
    overheadMedianMs: number;
    overheadMaxMs: number;
    overheadOverSlowestInReportMedianMs: number;
  };
  samples: unknown[];
};
type FleetPart = {
  entities: number;
  ms: number;
  awsCallsByApi: Record<string, number>;
  kubernetesRequests: number;
};
type Fleet = { fleetCold: FleetPart; fleetRefresh: FleetPart };

const dir = process.argv[2];
if (!dir) {
  throw new Error('Usage: summary.ts <bench/results/health-… directory>');
}
const read = <T>(name: string) =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as T;
const holds = (ok: boolean) => (ok ? 'holds' : 'MISSED');
const ratio = (a: number, b: number) => (a / b).toFixed(2);

const rows: string[] = [];
const warm = read<Warm>('warm');
for (const [name, r] of Object.entries(warm.results)) {
  const p95 = r.health.p95 / r.catalog.p95;
  rows.push(
    `| warm, ${name} | health p50/p95/p99 ${r.health.p50}/${r.health.p95}/${
      r.health.p99
    } ms; catalog by-name ${r.catalog.p50}/${r.catalog.p95}/${
      r.catalog.p99
    } ms; liveness ${r.liveness.p50}/${r.liveness.p95}/${
      r.liveness.p99
    } ms | p95 ${ratio(r.health.p95, r.catalog.p95)} (p50 ${ratio(
      r.health.p50,
      r.catalog.p50,
    )}) | ≤ 1.3: ${holds(p95 <= 1.3)} |`,
  );
}
const cold = read<Cold>('cold').summary;
rows.push(
  `| cold, one instance (${
    read<Cold>('cold').samples.length
  } samples) | report ${cold.coldMedianMs} ms; slowest check alone ${
    cold.slowestCheckAloneMedianMs
  } ms (medians); overhead median ${cold.overheadMedianMs} ms, max ${
    cold.overheadMaxMs
  } ms; beyond the slowest check as run in the app ${
    cold.overheadOverSlowestInReportMedianMs
  } ms | ${ratio(
    cold.coldMedianMs,
    cold.slowestCheckAloneMedianMs,
  )} | ≤ slowest + 50 ms: ${holds(cold.overheadMedianMs <= 50)} |`,
);
const fleet = read<Fleet>('fleet');
for (const [name, part] of [
  ['cold', fleet.fleetCold],
  ['refresh', fleet.fleetRefresh],
] as const) {
  const calls = part.awsCallsByApi;
  const s3 = Object.entries(calls)
    .filter(([api]) => api !== 'DescribeDBInstances')
    .reduce((sum, [, n]) => sum + n, 0);
  rows.push(
    `| fleet ${part.entities}, ${name} (simulated peers) | ${
      part.ms
    } ms; ${Object.entries(calls)
      .map(([api, n]) => `${api} ${n}`)
      .join(', ')}; Kubernetes ${part.kubernetesRequests} | RDS ${
      calls.DescribeDBInstances ?? 0
    }, S3 ${(s3 / part.entities).toFixed(1)} per bucket | RDS ≤ 5: ${holds(
      (calls.DescribeDBInstances ?? 0) <= 5,
    )}${
      name === 'refresh'
        ? `; S3 ≤ 1 per bucket: ${holds(s3 <= part.entities)}`
        : ''
    } |`,
  );
}
process.stdout.write(
  `| measure | figures | ratio | bound |\n| --- | --- | --- | --- |\n${rows.join(
    '\n',
  )}\n`,
);
