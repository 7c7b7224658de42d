/*
 * Provisioning against its floor, measured side by side in one run (issue #16), run as a script
 * through bench/provisioning.sh (not a test):
 *
 *   bench/provisioning.sh [--runs 3] [--out bench/results]
 *
 * Starts the real backend (packages/backend) with the stack overlay. Each round runs the full
 * mlflow-production template for a fresh dev instance (request to completion: RDS, S3, IAM,
 * database, migration Job, rollout, health user), reads the server's arguments and ConfigMap from
 * the Deployment it rendered, measures the floor with that server (floor.ts): migrate an empty
 * database + start the server until its first deep answer, then deletes the instance. Load
 * affects both halves of a round alike; the ratio is median run / median floor. Prints each round,
 * the steps of the median run and the machine (cores, load), and writes them to `--out`.
 */
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { readStackEnv } from '@internal/stack-env';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Container,
} from '@kubernetes/client-node';
import {
  defaultResourceNames,
  deleteInstanceResources,
  devInstanceValues,
  startStackBackend,
  TaskEvent,
} from 'e2e-tests';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FloorTimes, measureFloor, ServerShape } from './floor';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results' },
  },
});
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  throw new Error(
    `Invalid --runs: received ${args.runs}. Accepted: a whole number of at least 1.`,
  );
}

type Round = {
  runMs: number;
  floor: FloorTimes;
  load: number;
  steps: Array<{ step: string; ms: number }>;
  log: string[];
};

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const load = () => loadavg()[0];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Each step's time from its first event to its last, and the log with offsets from the request. */
function stepTimes(events: TaskEvent[], requested: number) {
  const spans = new Map<string, { first: number; last: number }>();
  const log: string[] = [];
  for (const event of events) {
    const at = Date.parse(event.createdAt);
    const step = event.body.stepId;
    if (step) {
      const span = spans.get(step) ?? { first: at, last: at };
      span.last = at;
      spans.set(step, span);
    }
    if (event.type === 'log' && event.body.message) {
      log.push(
        `+${((at - requested) / 1000).toFixed(1)}s [${step ?? '-'}] ${
          event.body.message
        }`,
      );
    }
  }
  const steps = [...spans].map(([step, { first, last }]) => ({
    step,
    ms: last - first,
  }));
  return { steps, log };
}

/**
 * Waits until a deleted instance is gone: its namespace (so its pods' processes have ended) and its
 * RDS instance (so the stack's PostgreSQL for it has stopped). The next round then starts on an
 * idle machine instead of beside the teardown, which loads the run and not its floor.
 */
async function waitUntilTornDown(
  env: ReturnType<typeof readStackEnv>,
  names: ReturnType<typeof defaultResourceNames>,
) {
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const rds = new RDSClient({ region: env.awsRegion });
  const gone = (error: unknown) =>
    /404|not ?found/i.test(
      `${(error as { code?: unknown })?.code ?? ''} ${
        (error as { name?: string })?.name ?? ''
      } ${String(error)}`,
    );
  const deadline = Date.now() + 300_000;
  for (;;) {
    const namespaceGone = await core
      .readNamespace({ name: names.namespace })
      .then(() => false, gone);
    const databaseGone = await rds
      .send(
        new DescribeDBInstancesCommand({
          DBInstanceIdentifier: names.rdsInstanceId,
        }),
      )
      .then(() => false, gone);
    if (namespaceGone && databaseGone) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Instance ${
          names.instance
        } still not torn down after 300 s (namespace ${
          namespaceGone ? 'gone' : 'still there'
        }, RDS instance ${databaseGone ? 'gone' : 'still there'})`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

/** The rendered server: the Deployment's container arguments and its ConfigMap's data. */
async function serverShape(
  kubeconfig: string,
  namespace: string,
  name: string,
): Promise<ServerShape> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const deployment = await kc
    .makeApiClient(AppsV1Api)
    .readNamespacedDeployment({ name, namespace });
  const container: V1Container =
    deployment.spec!.template.spec!.containers.find(c => c.name === 'mlflow')!;
  const configMapName = container.envFrom?.find(e => e.configMapRef)
    ?.configMapRef?.name;
  const configEnv = configMapName
    ? (
        await kc
          .makeApiClient(CoreV1Api)
          .readNamespacedConfigMap({ name: configMapName, namespace })
      ).data ?? {}
    : {};
  const serverArgs = container.args ?? [];
  return {
    args: serverArgs,
    configEnv,
    signIn: serverArgs.includes('--app-name'),
  };
}

async function main() {
  const env = readStackEnv();
  const machine = { cores: cpus().length, loadAtStart: loadavg() };
  const { backend, scaffolder } = await startStackBackend({
    templates: ['mlflow-production'],
  });
  const rounds: Round[] = [];
  try {
    const stamp = Date.now().toString(36);
    for (let i = 1; i <= RUNS; i++) {
      const name = `bench-${stamp}-${i}`;
      const names = defaultResourceNames(name);
      const events: TaskEvent[] = [];
      const loadBefore = load();
      const requested = Date.now();
      const result = await scaffolder.runTemplate(
        'template:default/mlflow-production',
        devInstanceValues(name),
        { timeoutMs: 900_000, onEvent: event => events.push(event) },
      );
      const runMs = Date.now() - requested;
      if (result.status !== 'completed') {
        await deleteInstanceResources(names);
        throw new Error(
          `Round ${i}: the template run ${result.status}: ${result.log
            .slice(-3)
            .join(' | ')}`,
        );
      }
      process.stdout.write(
        `round ${i}/${RUNS}: template run ${s(runMs)}; measuring the floor\n`,
      );
      // Before the instance is deleted: its teardown (pods, PostgreSQL) would load the floor.
      const shape = await serverShape(env.kubeconfig, names.namespace, name);
      const floor = await measureFloor(env, shape, `${stamp}_${i}`);
      await deleteInstanceResources(names);
      await waitUntilTornDown(env, names);
      const round = {
        runMs,
        floor,
        load: (loadBefore + load()) / 2,
        ...stepTimes(events, requested),
      };
      rounds.push(round);
      process.stdout.write(
        `round ${i}/${RUNS}: run ${s(runMs)}, floor ${s(
          floor.totalMs,
        )} (both databases migrated side by side ${s(
          floor.migrateMs,
        )}, the auth one alone ${s(
          floor.authMigrateMs,
        )}; + server to first deep answer ${s(floor.serverMs)}), ratio ${(
          runMs / floor.totalMs
        ).toFixed(2)}, load ${round.load.toFixed(2)}; steps: ${round.steps
          .map(t => `${t.step} ${s(t.ms)}`)
          .join(', ')}\n`,
      );
    }
  } finally {
    await backend.stop();
  }

  const run = median(rounds.map(r => r.runMs));
  const floor = median(rounds.map(r => r.floor.totalMs));
  const byRun = [...rounds].sort((a, b) => a.runMs - b.runMs);
  const middle = byRun[Math.floor((byRun.length - 1) / 2)];
  const summary = {
    measuredAt: new Date().toISOString(),
    runs: RUNS,
    machine: { ...machine, loadAtEnd: loadavg() },
    medianRunMs: run,
    medianFloorMs: floor,
    ratio: run / floor,
    floorParts: {
      migrateMs: median(rounds.map(r => r.floor.migrateMs)),
      authMigrateMs: median(rounds.map(r => r.floor.authMigrateMs)),
      serverMs: median(rounds.map(r => r.floor.serverMs)),
    },
    rounds,
  };
  const text = [
    `provisioning on the local stack, ${RUNS} rounds, ${
      machine.cores
    } cores, load average ${machine.loadAtStart
      .map(l => l.toFixed(2))
      .join(' ')} at start, ${summary.machine.loadAtEnd
      .map(l => l.toFixed(2))
      .join(' ')} at end`,
    `template run: median ${s(run)} (min ${s(byRun[0].runMs)}, max ${s(
      byRun[byRun.length - 1].runMs,
    )})`,
    `floor: median ${s(floor)} (both databases migrated side by side ${s(
      summary.floorParts.migrateMs,
    )}, the auth one within it ${s(
      summary.floorParts.authMigrateMs,
    )}; server to first deep answer ${s(summary.floorParts.serverMs)})`,
    `ratio run / floor: ${summary.ratio.toFixed(2)} (target: at most 1.3)`,
    `steps of the median run: ${middle.steps
      .map(t => `${t.step} ${s(t.ms)}`)
      .join(', ')}`,
  ].join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(args.out!, { recursive: true });
  const file = join(
    args.out!,
    `provisioning-${summary.measuredAt.replace(/[-:]|\.\d+/g, '')}`,
  );
  writeFileSync(`${file}.json`, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(
    `${file}.txt`,
    `${text}\n\ntask log of the median run:\n${middle.log.join('\n')}\n`,
  );
  process.stdout.write(`written: ${file}.json, ${file}.txt\n`);
}

main().catch(error => {
  process.stderr.write(
    `${error instanceof Error ? error.stack ?? error.message : error}\n`,
  );
  process.exitCode = 1;
});
