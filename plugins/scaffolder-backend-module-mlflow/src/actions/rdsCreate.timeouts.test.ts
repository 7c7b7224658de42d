import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { startSilentServer } from '../__testUtils__/silentServer';
import { AwsClientConfigProvider } from '../aws/clients';
import { createRdsCreateAction } from '../actionFactories';
import { testTenancy } from '../__testUtils__/tenancy';

const input = {
  name: 'demo',
  region: 'eu-west-1',
  allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
};

// A real socket on a loaded machine: room for the 1 to 2 s timeouts and the hang-up.
jest.setTimeout(30_000);

describe('mlflow:rds:create against an AWS endpoint that accepts and never answers', () => {
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  let aws: AwsClientConfigProvider;

  beforeEach(async () => {
    silent = await startSilentServer();
    aws = {
      forRegion: async ({ region }) => ({
        region,
        endpoint: `http://127.0.0.1:${silent.port}`,
        credentials: async () => ({
          accessKeyId: 'AKIATEST',
          secretAccessKey: 'test-secret-key',
        }),
      }),
    };
  });

  afterEach(() => silent.close());

  it('fails at its timeoutSeconds with a message naming the call', async () => {
    const action = createRdsCreateAction({ aws, ...testTenancy() });
    const { ctx } = createCheckpointingContext(action, {
      input: { ...input, timeoutSeconds: 2 },
    });
    await expect(action.handler(ctx)).rejects.toThrow(
      /^AWS sts:GetCallerIdentity on the configured AWS credentials did not answer within 2s and was abandoned/,
    );
  });

  it('stops at once when the task is cancelled', async () => {
    const action = createRdsCreateAction({ aws, ...testTenancy() });
    const controller = new AbortController();
    const { ctx } = createCheckpointingContext(action, {
      input,
      signal: controller.signal,
    });
    const pending = action.handler(ctx);
    for (const until = Date.now() + 10_000; silent.openConnections() === 0; ) {
      expect(Date.now()).toBeLessThan(until);
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    controller.abort();
    await expect(pending).rejects.toThrow(
      'Cancelled: AWS sts:GetCallerIdentity on the configured AWS credentials was abandoned because the task was cancelled',
    );
  });
});
