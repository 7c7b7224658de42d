import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { readStackEnv } from '@internal/stack-env';
import { Client } from 'pg';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  eventually,
  setUpDatabaseStack,
  STACK_REGION,
} from '../__testUtils__/databaseStack';
import { uniqueSuffix } from '../__testUtils__/stack';
import { StepDeadline } from '../util/stepDeadline';
import { connectWithPg } from './postgresConnection';

jest.setTimeout(300_000);

const suffix = uniqueSuffix();
const name = `to-${suffix}`;
const names = resolveInstanceNames({ name });

describe('hung PostgreSQL statements on the local stack', () => {
  let stack: Awaited<ReturnType<typeof setUpDatabaseStack>>;
  let observer: Client;

  beforeAll(async () => {
    stack = await setUpDatabaseStack(name);
    observer = await stack.superuser('timeouts-observer');
  });

  afterAll(async () => {
    await observer?.end();
    await stack?.deleteNamespace(names.namespace);
  });

  /** Backends of `application` still running a statement that starts with `prefix`. */
  const running = async (application: string, prefix: string) =>
    Number(
      (
        await observer.query(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND starts_with(query, $2)`,
          [application, prefix],
        )
      ).rows[0].n,
    );

  // The same server the observer watches: the instance's own PostgreSQL.
  const sleeper = (application: string, deadline: StepDeadline) => {
    const env = readStackEnv();
    return connectWithPg(
      {
        host: stack.endpoint.host,
        port: stack.endpoint.port,
        ssl: { ca: stack.endpoint.caBundle },
        user: env.pgUser,
        password: env.pgPassword,
        database: 'postgres',
        application_name: application,
      },
      deadline,
    );
  };

  it('abandons a statement at its timeout and stops it on the server', async () => {
    const application = `sleep-timeout-${suffix}`;
    const client = await sleeper(
      application,
      new StepDeadline({ timeoutSeconds: 60, callTimeoutMs: 2_000 }),
    );
    await expect(client.query('SELECT pg_sleep(120)')).rejects.toThrow(
      /^PostgreSQL statement SELECT pg_sleep\(120\) at [\w.-]+:\d+ did not answer within 2s and was abandoned/,
    );
    await eventually(
      'the server to stop the statement',
      async () => (await running(application, 'SELECT pg_sleep')) === 0,
    );
    await client.end();
  });

  it('abandons a statement on cancel and cancels it on the server long before any timeout', async () => {
    const application = `sleep-cancel-${suffix}`;
    const controller = new AbortController();
    const client = await sleeper(
      application,
      // statement_timeout is longer still: only the cancel request can stop the statement early.
      new StepDeadline({
        timeoutSeconds: 600,
        callTimeoutMs: 300_000,
        signal: controller.signal,
      }),
    );
    const pending = client.query('SELECT pg_sleep(300)');
    await eventually(
      'the statement to run',
      async () => (await running(application, 'SELECT pg_sleep')) === 1,
    );
    controller.abort();
    await expect(pending).rejects.toThrow(
      /^Cancelled: PostgreSQL statement SELECT pg_sleep\(300\) at [\w.-]+:\d+ was abandoned/,
    );
    await eventually(
      'the server to stop the statement',
      async () => (await running(application, 'SELECT pg_sleep')) === 0,
    );
  });

  describe('mlflow:database:create blocked behind a lock on its role', () => {
    let blocker: Client;

    beforeAll(async () => {
      const action = stack.databaseAction();
      const first = createCheckpointingContext(action, {
        input: {
          name,
          region: STACK_REGION,
          instanceId: stack.instanceId,
          cluster: 'local',
        },
      });
      await action.handler(first.ctx);
      // An open transaction that altered the role: the step's ALTER ROLE waits for it.
      blocker = await stack.superuser('timeouts-blocker');
      await blocker.query('BEGIN');
      await blocker.query(
        `ALTER ROLE "${names.databaseUsername}" CONNECTION LIMIT 20`,
      );
    });

    afterAll(async () => {
      await blocker?.query('ROLLBACK').catch(() => undefined);
      await blocker?.end();
    });

    const blockedAlter = () =>
      running(
        'backstage-stateful-mlflow',
        `ALTER ROLE "${names.databaseUsername}"`,
      );

    it('fails at its timeoutSeconds with a clear message and leaves no statement waiting', async () => {
      const action = stack.databaseAction();
      const run = createCheckpointingContext(action, {
        input: {
          name,
          region: STACK_REGION,
          instanceId: stack.instanceId,
          cluster: 'local',
          // Room for the calls before the ALTER ROLE on a busy machine; the rest is spent on it.
          timeoutSeconds: 20,
        },
      });
      const error: Error = await action.handler(run.ctx).catch(e => e);
      expect(error.message).toMatch(
        /^PostgreSQL statement ALTER ROLE at [\w.-]+:\d+ did not answer within \d+s and was abandoned/,
      );
      await eventually(
        'the blocked statement to be cancelled',
        async () => (await blockedAlter()) === 0,
      );
      expect(run.everythingVisible()).not.toContain('PASSWORD');
    });

    it('stops on cancel with a clear message and leaves no statement waiting', async () => {
      const action = stack.databaseAction();
      const controller = new AbortController();
      const run = createCheckpointingContext(action, {
        input: {
          name,
          region: STACK_REGION,
          instanceId: stack.instanceId,
          cluster: 'local',
        },
        signal: controller.signal,
      });
      const pending = action.handler(run.ctx).catch(e => e);
      await eventually(
        'the step to wait on its role',
        async () => (await blockedAlter()) === 1,
      );
      controller.abort();
      const error: Error = await pending;
      expect(error.message).toMatch(
        /^Cancelled: PostgreSQL statement ALTER ROLE at [\w.-]+:\d+ was abandoned because the task was cancelled/,
      );
      await eventually(
        'the blocked statement to be cancelled',
        async () => (await blockedAlter()) === 0,
      );
    });
  });
});
