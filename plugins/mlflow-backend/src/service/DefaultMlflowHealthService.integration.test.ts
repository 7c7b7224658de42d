import {
  BucketLocationConstraint,
  CreateBucketCommand,
  DeleteBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import {
  readStackAppConfig,
  readStackEnv,
  StackEnv,
} from '@internal/stack-env';
import { ChildProcess, spawn } from 'node:child_process';
import { Client } from 'pg';
import {
  check,
  entity,
  freePort,
  run,
  stackHealthService,
  until,
} from './__testUtils__/stackHealthFixtures';

/*
 * Against the local real stack (stack/README.md): a real MLflow server (its backend store on the
 * stack's PostgreSQL, its artifacts on the AWS endpoint, moto), checked through the real service
 * with the stack's Backstage config overlay.
 */

describe('DefaultMlflowHealthService against the local stack', () => {
  let env: StackEnv;
  let overlay: JsonObject;

  beforeAll(() => {
    env = readStackEnv();
    overlay = readStackAppConfig(env).data;
  });

  function serviceFor(entities: Entity[]) {
    return stackHealthService(overlay, entities);
  }

  it('sees a real MLflow server up, then stopped', async () => {
    const database = `it_health_${run}`;
    const bucket = `it-health-${run}-tracking`;
    const s3 = new S3Client({ region: env.awsRegion, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: {
          LocationConstraint: env.awsRegion as BucketLocationConstraint,
        },
      }),
    );
    const admin = new Client({ database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const port = await freePort();
    let server: ChildProcess | undefined;
    let output = '';
    try {
      server = spawn(
        env.mlflowBin,
        [
          'server',
          '--backend-store-uri',
          `postgresql://${encodeURIComponent(env.pgUser)}:${encodeURIComponent(
            env.pgPassword,
          )}@${env.pgHost}:${env.pgPort}/${database}`,
          '--artifacts-destination',
          `s3://${bucket}/mlflow`,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--workers',
          '1',
        ],
        // Its own process group: `mlflow server` runs the web server as a child process.
        { env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      server.stdout!.on('data', chunk => (output += chunk));
      server.stderr!.on('data', chunk => (output += chunk));
      const url = `http://127.0.0.1:${port}`;
      // MLflow creates its tables in the empty database and opens its backend store on the first
      // call that needs it; wait until it has, or has exited. A fresh start takes seconds on a quiet
      // machine and can take minutes beside a parallel build: the bound is only against a hang.
      const started = server;
      const outcome = await until(`MLflow on ${url}`, 400_000, async () => {
        if (started.exitCode !== null || started.signalCode !== null) {
          return `exited (${started.exitCode ?? started.signalCode})`;
        }
        const search = await fetch(`${url}/api/2.0/mlflow/experiments/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ max_results: 1 }),
        });
        return search.ok ? 'answered' : undefined;
      }).catch(error => {
        throw new Error(`${error.message}\n${output.slice(-2000)}`);
      });
      if (outcome !== 'answered') {
        throw new Error(
          `mlflow server ${outcome} before it answered\n${output.slice(-2000)}`,
        );
      }

      const service = serviceFor([
        entity('tracking', { 'mlflow.org/tracking-url': url }),
      ]);
      const up = await check(service, 'tracking', 'trackingServer');
      expect({ summary: up.summary }).toEqual({
        summary: expect.stringMatching(/answers and reads its backend store/),
      });
      // This server runs without MLflow's sign-in app: it answers, but anonymous access fails the
      // authentication point, so the check is a warning rather than ok.
      expect(up).toMatchObject({
        status: 'warning',
        details: {
          url,
          live: true,
          backendStoreReachable: true,
          version: expect.stringMatching(/^\d+\.\d+/),
          compliance: expect.arrayContaining([
            expect.objectContaining({ id: 'authentication', ok: false }),
            expect.objectContaining({ id: 'https', ok: true }),
          ]),
        },
      });

      const exited = new Promise(resolve => server!.once('exit', resolve));
      process.kill(-server.pid!, 'SIGTERM');
      await exited;
      server = undefined;
      await until('the MLflow server to stop', 30_000, () =>
        fetch(`${url}/health`).then(
          () => undefined,
          () => true,
        ),
      );
      expect(await check(service, 'tracking', 'trackingServer')).toMatchObject({
        status: 'error',
        summary: expect.stringMatching(/does not answer \/health/),
      });
    } finally {
      if (server?.pid) {
        process.kill(-server.pid, 'SIGKILL');
      }
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
      await s3
        .send(new DeleteBucketCommand({ Bucket: bucket }))
        .catch(() => {});
    }
  }, 600_000);
});
