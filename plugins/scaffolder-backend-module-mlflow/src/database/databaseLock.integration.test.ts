import { V1Secret } from '@kubernetes/client-node';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { Client } from 'pg';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  eventually,
  setUpDatabaseStack,
  STACK_REGION,
} from '../__testUtils__/databaseStack';
import { uniqueSuffix } from '../__testUtils__/stack';
import { instanceLockKey } from './databaseLock';

// moto, the cluster and PostgreSQL are shared with colleagues on a small machine.
jest.setTimeout(300_000);

const name = `lk-${uniqueSuffix()}`;
const names = resolveInstanceNames({ name });
const WAITING = `Another run is setting up the database of MLflow instance ${name}`;

describe('one database run per instance at a time, on the local stack', () => {
  let stack: Awaited<ReturnType<typeof setUpDatabaseStack>>;
  let holder: Client;
  let holderPid: number;
  const lockKey = instanceLockKey(name).toString();

  beforeAll(async () => {
    stack = await setUpDatabaseStack(name);
    // Another backend replica in the middle of a run, as far as the lock can tell.
    holder = await stack.superuser('another-replica');
    holderPid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0]
      .pid;
  });

  afterAll(async () => {
    await holder?.end();
    await stack?.deleteNamespace(names.namespace);
  });

  const input = () => ({
    name,
    region: STACK_REGION,
    instanceId: stack.instanceId,
    cluster: 'local',
  });

  async function readSecret() {
    const secret = await stack.kube.read<V1Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      name: names.databaseSecretName,
      namespace: names.namespace,
    });
    const value = (key: string) =>
      Buffer.from(secret!.data![key], 'base64').toString();
    return {
      host: value('PGHOST'),
      port: Number(value('PGPORT')),
      user: value('PGUSER'),
      password: value('PGPASSWORD'),
      database: value('PGDATABASE'),
    };
  }

  it('two concurrent runs take turns and leave a Secret and a role that agree', async () => {
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [lockKey]);
    const action = stack.databaseAction();
    const runs = [0, 1].map(() =>
      createCheckpointingContext(action, { input: input() }),
    );
    const done = Promise.allSettled(runs.map(run => action.handler(run.ctx)));
    // Both runs are now past every check and wait at the lock: releasing it starts the race.
    await eventually('both runs to wait for the lock', () =>
      runs.every(run => run.logs.some(l => l.message.startsWith(WAITING))),
    );
    for (const run of runs) {
      expect(run.logs.find(l => l.message.startsWith(WAITING))!.message).toBe(
        `${WAITING} (held by PostgreSQL backend ${holderPid} (another-replica)); one run per instance at a time, so this one waits for it`,
      );
    }
    await holder.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]);
    const results = await done;
    expect(results.map(r => r.status)).toEqual(['fulfilled', 'fulfilled']);

    const credentials = await readSecret();
    expect(credentials.user).toBe(names.databaseUsername);
    const app = new Client(credentials);
    await app.connect();
    try {
      const me = await app.query('SELECT current_user AS me');
      expect(me.rows[0].me).toBe(names.databaseUsername);
    } finally {
      await app.end();
    }
  });

  it('refuses a run that cannot get the lock within its timeout, naming the holder, and changes nothing', async () => {
    const before = await readSecret();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [lockKey]);
    try {
      const action = stack.databaseAction();
      const run = createCheckpointingContext(action, {
        // The budget also pays the calls before the lock (RDS, Secrets Manager, a TLS connection):
        // room for them on a busy machine, the rest is spent waiting on the held lock.
        input: { ...input(), timeoutSeconds: 15 },
      });
      await expect(action.handler(run.ctx)).rejects.toThrow(
        new RegExp(
          `^Timed out after \\d+s waiting for the other run for MLflow instance ${name} to release its database lock; last status: held by PostgreSQL backend ${holderPid}`,
        ),
      );
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]);
    }
    expect(await readSecret()).toEqual(before);
    const app = new Client(before);
    await app.connect();
    await app.end();
  });
});
