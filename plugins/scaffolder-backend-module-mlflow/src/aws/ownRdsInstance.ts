import type { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { StepDeadline } from '../util/stepDeadline';
import { describeDbInstance, waitForDbInstanceAvailable } from './rds';
import { RdsInstanceIdentity, verifyRdsInstanceIdentity } from './rdsIdentity';

/**
 * The RDS instance of the MLflow instance `name`, available (in dry-run: as it is, or undefined),
 * with the identity its tags record. Another instance is refused at once, not after waiting for
 * it; a master secret other than its own once it has one.
 */
export async function awaitOwnRdsInstance(o: {
  rds: RDSClient;
  name: string;
  instanceId: string;
  region: string;
  masterSecretArn?: string;
  dryRun?: boolean;
  timeoutSeconds: number;
  logger: LoggerService;
  signal?: AbortSignal;
  pollIntervalMs: number;
  deadline: StepDeadline;
}): Promise<{ instance?: DBInstance; identity?: RdsInstanceIdentity }> {
  const { rds, name, instanceId, deadline } = o;
  o.logger.info(`Looking up RDS instance ${instanceId}`);
  let instance = await describeDbInstance(rds, instanceId, deadline);
  if (!instance && !o.dryRun) {
    throw new InputError(
      `Invalid instanceId: received "${instanceId}", but no such RDS instance exists in ${o.region}. Run mlflow:rds:create first.`,
    );
  }
  if (instance) {
    verifyRdsInstanceIdentity({ name, instanceId, instance });
  }
  if (instance?.DBInstanceStatus !== 'available' && !o.dryRun) {
    instance = await waitForDbInstanceAvailable(rds, instanceId, {
      timeoutSeconds: o.timeoutSeconds,
      logger: o.logger,
      signal: o.signal,
      pollIntervalMs: o.pollIntervalMs,
      deadline,
    });
  }
  if (!instance) {
    return {};
  }
  return {
    instance,
    identity: verifyRdsInstanceIdentity({
      name,
      instanceId,
      instance,
      masterSecretArn: o.masterSecretArn,
    }),
  };
}
