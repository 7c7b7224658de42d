import { startSilentServer } from '../__testUtils__/silentServer';
import { StepDeadline } from '../util/stepDeadline';
import { connectWithPg, explainPostgresError } from './postgresConnection';

// A real socket on a loaded machine: room for the 1 to 2 s timeouts and the hang-up.
jest.setTimeout(30_000);

describe('connectWithPg against a server that accepts and never answers', () => {
  let silent: Awaited<ReturnType<typeof startSilentServer>>;

  beforeEach(async () => {
    silent = await startSilentServer();
  });

  afterEach(() => silent.close());

  const config = () => ({
    host: '127.0.0.1',
    port: silent.port,
    user: 'admin',
    password: 'not-used',
    database: 'postgres',
  });

  it('gives up connecting at the call timeout and hangs up', async () => {
    const error = await connectWithPg(
      config(),
      new StepDeadline({ timeoutSeconds: 60, callTimeoutMs: 1_000 }),
    ).catch(e => e);
    expect(error.message).toBe(
      `Connecting to PostgreSQL at 127.0.0.1:${silent.port} did not answer within 1s and was abandoned; check that the service is reachable and healthy, or raise timeoutSeconds, then run the task again`,
    );
    // Kept as it is by the explanation: it already says what happened.
    expect(explainPostgresError(error, 'x')).toBe(error);
    for (const until = Date.now() + 10_000; silent.openConnections() > 0; ) {
      expect(Date.now()).toBeLessThan(until);
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  });

  it('gives up connecting when the task is cancelled', async () => {
    const controller = new AbortController();
    const pending = connectWithPg(
      config(),
      new StepDeadline({ timeoutSeconds: 600, signal: controller.signal }),
    );
    for (const until = Date.now() + 10_000; silent.openConnections() === 0; ) {
      expect(Date.now()).toBeLessThan(until);
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    controller.abort();
    await expect(pending).rejects.toThrow(
      /^Cancelled: Connecting to PostgreSQL at 127\.0\.0\.1:\d+ was abandoned/,
    );
  });
});
