import { RDSClient } from '@aws-sdk/client-rds';
import { startSilentServer } from '../__testUtils__/silentServer';
import { StepDeadline } from '../util/stepDeadline';
import { describeDbInstance, postgresInstanceNames, postureDrift } from './rds';

// A real socket on a loaded machine: room for the 1 to 2 s timeouts and the hang-up.
jest.setTimeout(30_000);

describe('aws/rds', () => {
  describe('against an endpoint that accepts and never answers', () => {
    let silent: Awaited<ReturnType<typeof startSilentServer>>;
    let rds: RDSClient;

    beforeEach(async () => {
      silent = await startSilentServer();
      rds = new RDSClient({
        region: 'eu-west-1',
        endpoint: `http://127.0.0.1:${silent.port}`,
        credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
    });

    afterEach(async () => {
      rds.destroy();
      await silent.close();
    });

    it('abandons the call at its timeout and closes the connection', async () => {
      const deadline = new StepDeadline({
        timeoutSeconds: 60,
        callTimeoutMs: 1_000,
      });
      const started = Date.now();
      await expect(
        describeDbInstance(rds, 'mlflow-demo', deadline),
      ).rejects.toThrow(
        /^AWS rds:DescribeDBInstances on RDS instance "mlflow-demo" did not answer within 1s and was abandoned/,
      );
      const elapsed = Date.now() - started;
      // Abandoned by its own timeout, not by an early failure.
      expect(elapsed).toBeGreaterThanOrEqual(900);
      // The SDK got the abort signal too: it hangs up rather than leaving the request open.
      for (const until = Date.now() + 10_000; silent.openConnections() > 0; ) {
        expect(Date.now()).toBeLessThan(until);
        await new Promise(resolve => setTimeout(resolve, 50));
      }
    });

    it('abandons the call when the task is cancelled', async () => {
      const controller = new AbortController();
      const deadline = new StepDeadline({
        timeoutSeconds: 600,
        signal: controller.signal,
      });
      const pending = describeDbInstance(rds, 'mlflow-demo', deadline);
      for (
        const until = Date.now() + 10_000;
        silent.openConnections() === 0;

      ) {
        expect(Date.now()).toBeLessThan(until);
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      controller.abort();
      await expect(pending).rejects.toThrow(
        'Cancelled: AWS rds:DescribeDBInstances on RDS instance "mlflow-demo" was abandoned because the task was cancelled',
      );
    });
  });

  it('derives the parameter group and security group from the instance and major version', () => {
    expect(postgresInstanceNames('mlflow-demo', '17.4')).toEqual({
      parameterGroupName: 'mlflow-demo-postgres17',
      parameterGroupFamily: 'postgres17',
      securityGroupName: 'mlflow-demo-postgres',
    });
  });

  it('names every way an instance falls short of the posture asked for', () => {
    expect(
      postureDrift(
        {
          StorageEncrypted: false,
          PubliclyAccessible: true,
          MultiAZ: false,
          DeletionProtection: false,
          BackupRetentionPeriod: 1,
        },
        { multiAz: true, deletionProtection: true, backupRetentionDays: 14 },
      ),
    ).toEqual([
      'its storage is not encrypted',
      'it is publicly accessible',
      'it is not Multi-AZ',
      'deletion protection is off',
      'it keeps backups for 1 days, not 14',
    ]);
  });
});
