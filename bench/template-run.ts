/*
 * Benchmark of a full run of templates/mlflow-production on the local stack, run as a script
 * through bench/template-run.sh (not a test):
 *
 *   bench/template-run.sh [runs]      default 5 runs
 *
 * Starts the real backend (packages/backend) with the stack overlay, then creates one fresh dev
 * instance per run through POST /api/scaffolder/v2/tasks and times it from the request to the
 * task's completion (RDS, S3, IAM, database, migration Job and rollout included). Each instance is
 * deleted after its run, so every run starts from scratch. Prints every run and the median.
 */
import {
  defaultResourceNames,
  deleteInstanceResources,
  devInstanceValues,
  startStackBackend,
} from 'e2e-tests';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(
      `Invalid number of runs: received ${process.argv[2]}. Accepted: a whole number of at least 1.`,
    );
  }
  const { backend, scaffolder } = await startStackBackend({
    templates: ['mlflow-production'],
  });
  const durations: number[] = [];
  try {
    const stamp = Date.now().toString(36);
    for (let i = 1; i <= runs; i++) {
      const name = `bench-${stamp}-${i}`;
      const started = Date.now();
      const result = await scaffolder.runTemplate(
        'template:default/mlflow-production',
        devInstanceValues(name),
        { timeoutMs: 900_000 },
      );
      const elapsed = Date.now() - started;
      await deleteInstanceResources(defaultResourceNames(name));
      if (result.status !== 'completed') {
        throw new Error(
          `Run ${i} ${result.status}: ${result.log.slice(-3).join(' | ')}`,
        );
      }
      durations.push(elapsed);
      process.stdout.write(`run ${i}/${runs}: ${seconds(elapsed)}\n`);
    }
  } finally {
    await backend.stop();
  }
  process.stdout.write(
    `full template run on the local stack, ${runs} runs: median ${seconds(
      median(durations),
    )} (min ${seconds(Math.min(...durations))}, max ${seconds(
      Math.max(...durations),
    )})\n`,
  );
}

main().catch(error => {
  process.stderr.write(`${error instanceof Error ? error.message : error}\n`);
  process.exitCode = 1;
});
