import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  available,
  input,
  mockNothingCreatedYet,
  rds,
} from '../__testUtils__/rdsCreateFixtures';
import { testTenancy } from '../__testUtils__/tenancy';
import { createRdsCreateAction } from '../actionFactories';

describe('mlflow:rds:create', () => {
  const action = createRdsCreateAction({
    aws: fakeAws,
    ...testTenancy(),
    pollIntervalMs: 1,
  });

  beforeEach(() => {
    mockNothingCreatedYet();
  });

  it('waits for the instance to become available, logging its status', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolvesOnce({
        DBInstances: [{ ...available, DBInstanceStatus: 'creating' }],
      })
      .resolvesOnce({
        DBInstances: [{ ...available, DBInstanceStatus: 'backing-up' }],
      })
      .resolves({ DBInstances: [available] });
    const { ctx, outputs, logs } = createCheckpointingContext(action, {
      input,
    });
    await action.handler(ctx);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(4);
    expect(logs.some(l => l.message.startsWith('Waiting up to 2400s'))).toBe(
      true,
    );
    expect(outputs.status).toBe('available');
  });

  it('fails at once, naming the state and where to look, when the instance turns failed while it waits', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolvesOnce({
        DBInstances: [{ ...available, DBInstanceStatus: 'creating' }],
      })
      .resolves({
        DBInstances: [{ ...available, DBInstanceStatus: 'failed' }],
      });
    const { ctx } = createCheckpointingContext(action, { input });
    await expect(action.handler(ctx)).rejects.toThrow(
      'RDS instance mlflow-demo is failed, a state it does not leave by itself, so it will not become available: see its events (aws rds describe-events --source-type db-instance --source-identifier mlflow-demo)',
    );
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(3);
  });

  it('returns at once without waiting, and refuses an available instance without a managed secret', async () => {
    const creating = {
      ...available,
      DBInstanceStatus: 'creating',
      Endpoint: undefined,
      MasterUserSecret: undefined,
    };
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({ DBInstances: [creating] });
    const quick = createCheckpointingContext(action, {
      input: { ...input, waitForAvailable: false },
    });
    await action.handler(quick.ctx);
    expect(quick.outputs).toMatchObject({
      status: 'creating',
      endpoint: '',
      masterSecretArn: '',
    });

    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ ...available, MasterUserSecret: undefined }],
    });
    const unmanaged = createCheckpointingContext(action, { input });
    await expect(action.handler(unmanaged.ctx)).rejects.toThrow(
      /has no managed master secret/,
    );
  });

  it('stops waiting promptly when the task is cancelled', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({
        DBInstances: [{ ...available, DBInstanceStatus: 'creating' }],
      });
    const patient = createRdsCreateAction({
      ...testTenancy(),
      aws: fakeAws,
      pollIntervalMs: 60_000,
    });
    const controller = new AbortController();
    const { ctx } = createCheckpointingContext(patient, {
      input,
      signal: controller.signal,
    });
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    await expect(patient.handler(ctx)).rejects.toThrow(
      'Cancelled while waiting for RDS instance mlflow-demo to become available',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails with the last status when the wait times out', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
      .resolves({
        DBInstances: [{ ...available, DBInstanceStatus: 'creating' }],
      });
    const slow = createRdsCreateAction({
      aws: fakeAws,
      ...testTenancy(),
      pollIntervalMs: 200,
    });
    const { ctx } = createCheckpointingContext(slow, {
      input: { ...input, timeoutSeconds: 1 },
    });
    await expect(slow.handler(ctx)).rejects.toThrow(
      /Timed out after 1s waiting for RDS instance mlflow-demo.*last status: creating/,
    );
  });
});
