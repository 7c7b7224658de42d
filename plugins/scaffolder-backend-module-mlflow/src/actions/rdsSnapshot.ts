import { RDSClient } from '@aws-sdk/client-rds';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun } from '../authorization/authorizeRun';
import { AwsClientConfigProvider } from '../aws/clients';
import {
  describeDbSnapshot,
  waitForDbSnapshotAvailable,
} from '../aws/rdsDelete';
import {
  createManualSnapshot,
  manualSnapshotIdentifier,
} from '../aws/rdsSnapshot';
import { describeOwnRdsInstance } from '../aws/rdsIdentity';
import { resolveRdsInstanceTarget } from '../aws/rdsInstancePlan';
import {
  accountIdInput,
  nameInput,
  rdsInstanceIdInput,
  regionInput,
  timeoutSecondsInput,
} from './inputProperties';
import { examples } from './rdsSnapshot.examples';

const PURPOSE = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,19}$/;

/**
 * Takes a manual snapshot of an instance's RDS PostgreSQL (e.g. before a schema migration) and
 * waits until it is available, so what follows can rely on it.
 */
export function createRdsSnapshotAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
  pollIntervalMs?: number;
}) {
  return createTemplateAction({
    id: 'mlflow:rds:snapshot',
    description:
      "Takes a manual snapshot of an MLflow instance's PostgreSQL on RDS and waits until it is available (bounded, with progress lines). The snapshot carries the instance's tags. Only for an RDS instance tagged as this instance's; the initiator needs update on the instance.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        instanceId: rdsInstanceIdInput,
        purpose: z =>
          z
            .string()
            .default('manual')
            .describe(
              'Why the snapshot is taken, in its id: <instanceId>-<purpose>-<UTC time>; lower-case letters, digits and single hyphens, at most 20 characters.',
            ),
        snapshotIdentifier: z =>
          z
            .string()
            .optional()
            .describe(
              'Identifier of the snapshot; <instanceId>-<purpose>-<UTC time> when empty. An existing snapshot of this instance with this id is reused.',
            ),
        timeoutSeconds: z => timeoutSecondsInput(z, 3600),
      },
      output: {
        instanceId: z => z.string().describe('RDS DB instance identifier.'),
        snapshotId: z =>
          z
            .string()
            .describe('The snapshot holding the data (restore from it).'),
        snapshotArn: z => z.string().describe('ARN of the snapshot.'),
        status: z => z.string().describe('Status of the snapshot: available.'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const { name, region, instanceId } = resolveRdsInstanceTarget(input);
      if (!PURPOSE.test(input.purpose)) {
        throw new InputError(
          `Invalid purpose: received ${describeReceived(
            input.purpose,
          )}. Accepted: lower-case letters, digits and single hyphens, starting with a letter, at most 20 characters (e.g. pre-upgrade).`,
        );
      }
      const requested =
        input.snapshotIdentifier &&
        validateName(
          nameRules.rdsInstanceIdentifier,
          'snapshotIdentifier',
          input.snapshotIdentifier,
        );
      const config = await options.aws.forRegion({
        region,
        accountId: input.accountId,
      });
      const rds = new RDSClient(config);

      const { instance, owner } = await describeOwnRdsInstance({
        rds,
        name,
        instanceId,
        region,
        nothingDone: 'Nothing was snapshotted.',
      });
      await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing: [{ resource: `RDS instance ${instanceId}`, owner }],
        log: message => ctx.logger.info(message),
      });
      if (requested) {
        const existing = await describeDbSnapshot(rds, requested);
        if (
          existing &&
          existing.DBInstanceIdentifier !== undefined &&
          existing.DBInstanceIdentifier !== instanceId
        ) {
          throw new InputError(
            `Invalid snapshotIdentifier: received ${describeReceived(
              requested,
            )}, but that snapshot belongs to RDS instance ${
              existing.DBInstanceIdentifier
            }. Accepted: a new id, or one of ${instanceId}'s snapshots.`,
          );
        }
      }
      ctx.output('instanceId', instanceId);
      if (ctx.isDryRun) {
        const id = requested || `${instanceId}-${input.purpose}-dry-run`;
        ctx.logger.info(
          `Plan: snapshot RDS instance ${instanceId} (${instance.DBInstanceStatus}) as ${id} and wait until it is available`,
        );
        ctx.output('snapshotId', id);
        ctx.output(
          'snapshotArn',
          `arn:aws:rds:${region}:000000000000:snapshot:${id}`,
        );
        ctx.output('status', 'dry-run');
        return;
      }

      // Decided once per task, so a recovered run waits for the same snapshot.
      const snapshotId = await ctx.checkpoint({
        key: `mlflow:rds:${instanceId}:snapshot-id:${input.purpose}`,
        fn: async () =>
          requested ||
          manualSnapshotIdentifier(instanceId, input.purpose, new Date()),
      });
      await ctx.checkpoint({
        key: `mlflow:rds:${instanceId}:snapshot:${snapshotId}`,
        fn: async () => {
          if (await describeDbSnapshot(rds, snapshotId)) {
            ctx.logger.info(`Snapshot ${snapshotId} exists already`);
            return;
          }
          ctx.logger.info(
            `Taking snapshot ${snapshotId} of RDS instance ${instanceId}`,
          );
          await createManualSnapshot(rds, {
            instanceId,
            snapshotId,
            tags: (instance.TagList ?? []).filter(
              t => t.Key && !t.Key.startsWith('aws:'),
            ),
          });
        },
      });
      const snapshot = await waitForDbSnapshotAvailable(rds, snapshotId, {
        timeoutSeconds: input.timeoutSeconds,
        logger: ctx.logger,
        signal: ctx.signal,
        pollIntervalMs: options.pollIntervalMs ?? 5_000,
      });
      ctx.logger.info(
        `Snapshot ${snapshotId} of RDS instance ${instanceId} is available (${
          snapshot.DBSnapshotArn ?? 'no ARN'
        })`,
      );
      ctx.output('snapshotId', snapshotId);
      ctx.output('snapshotArn', snapshot.DBSnapshotArn ?? '');
      ctx.output('status', snapshot.Status ?? 'available');
    },
  });
}
