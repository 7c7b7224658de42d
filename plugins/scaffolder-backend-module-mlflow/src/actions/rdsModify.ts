import { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { nameRules } from '@stateful-mlflow/plugin-mlflow-common';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun } from '../authorization/authorizeRun';
import { AwsClientConfigProvider } from '../aws/clients';
import { describeDbInstance } from '../aws/rds';
import {
  describeRdsSettingChange,
  modifyRdsInstance,
  rdsSettingChanges,
  validateRdsSettingsChange,
  waitForRdsModification,
} from '../aws/rdsModify';
import { describeOwnRdsInstance } from '../aws/rdsIdentity';
import { resolveRdsInstanceTarget } from '../aws/rdsInstancePlan';
import {
  accountIdInput,
  nameInput,
  rdsInstanceIdInput,
  regionInput,
  timeoutSecondsInput,
} from './inputProperties';
import { examples } from './rdsModify.examples';

/**
 * Changes an instance's RDS settings (class, storage, backup retention, deletion protection), in
 * the maintenance window or at once, after showing every change.
 */
export function createRdsModifyAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
  pollIntervalMs?: number;
}) {
  return createTemplateAction({
    id: 'mlflow:rds:modify',
    description:
      "Changes the instance class, allocated storage, backup retention or deletion protection of an MLflow instance's RDS PostgreSQL, applied in the next maintenance window or at once (then waited for, bounded, with progress lines). Logs every change first; turning deletion protection off needs liftDeletionProtection. Only for an RDS instance tagged as this instance's; the initiator needs update on the instance.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        instanceId: rdsInstanceIdInput,
        instanceClass: z =>
          z
            .string()
            .optional()
            .describe(
              `New RDS instance class, e.g. db.t4g.small or db.m7g.large; today's when empty. ${nameRules.rdsInstanceClass.accepted}.`,
            ),
        allocatedStorageGiB: z =>
          z
            .number()
            .optional()
            .describe(
              "New gp3 storage in GiB (20 to 65536); RDS only grows storage, by at least 10 %. Today's when empty.",
            ),
        backupRetentionDays: z =>
          z
            .number()
            .optional()
            .describe(
              "Days of automated backups (1 to 35, at least 7 in prod); today's when empty.",
            ),
        deletionProtection: z =>
          z
            .boolean()
            .optional()
            .describe(
              "Deletion protection on or off; today's when empty. Turning it off needs liftDeletionProtection.",
            ),
        liftDeletionProtection: z =>
          z
            .boolean()
            .default(false)
            .describe(
              "The owner's explicit choice to turn deletion protection off (logged with who asked). Without it, deletionProtection false on a protected instance is refused.",
            ),
        applyImmediately: z =>
          z
            .boolean()
            .default(false)
            .describe(
              'Apply now (the instance may restart) and wait until applied; otherwise class and storage wait for the next maintenance window.',
            ),
        timeoutSeconds: z => timeoutSecondsInput(z, 1800),
      },
      output: {
        instanceId: z => z.string().describe('RDS DB instance identifier.'),
        changes: z =>
          z.array(z.string()).describe('What changes and when, one line each.'),
        pendingChanges: z =>
          z
            .array(z.string())
            .describe(
              'What RDS holds for the maintenance window after this step.',
            ),
        status: z =>
          z.string().describe('Instance status when the step ended.'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const { name, region, instanceId } = resolveRdsInstanceTarget(input);
      // The rules that need no AWS answer come first: bad input is refused before any call.
      validateRdsSettingsChange(input);
      const rds = new RDSClient(
        await options.aws.forRegion({ region, accountId: input.accountId }),
      );
      const { instance, owner } = await describeOwnRdsInstance({
        rds,
        name,
        instanceId,
        region,
        nothingDone: 'Nothing was changed.',
      });
      await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing: [{ resource: `RDS instance ${instanceId}`, owner }],
        log: message => ctx.logger.info(message),
      });
      const environment = instance.TagList?.find(
        t => t.Key === 'environment',
      )?.Value;
      const requested = validateRdsSettingsChange(input, instance, environment);
      const changes = rdsSettingChanges(
        instance,
        requested,
        input.applyImmediately,
      );
      const lowersProtection = changes.some(
        c => c.setting === 'deletionProtection' && c.to === false,
      );
      if (lowersProtection && !input.liftDeletionProtection) {
        throw new InputError(
          `Invalid deletionProtection: received false, but RDS instance ${instanceId} has deletion protection on. Nothing was changed. Set liftDeletionProtection to true as well (the owner's explicit choice, logged) to turn it off.`,
        );
      }
      const lines = changes.map(describeRdsSettingChange);
      ctx.output('instanceId', instanceId);
      ctx.output('changes', lines);
      ctx.logger.info(
        lines.length > 0
          ? `${
              ctx.isDryRun ? 'Plan' : 'Changing'
            } RDS instance ${instanceId} (maintenance window ${
              instance.PreferredMaintenanceWindow ?? 'unknown'
            }):\n${lines.map(l => `- ${l}`).join('\n')}`
          : `Nothing changes on RDS instance ${instanceId}: it has these settings already, or holds them for the maintenance window`,
      );
      if (ctx.isDryRun || changes.length === 0) {
        ctx.output('pendingChanges', pendingLines(instance));
        ctx.output(
          'status',
          ctx.isDryRun ? 'dry-run' : instance.DBInstanceStatus ?? 'unknown',
        );
        return;
      }

      if (lowersProtection) {
        const initiator = (await ctx.getInitiatorCredentials()).principal as {
          userEntityRef?: string;
        };
        ctx.logger.warn(
          `Turning off the deletion protection of RDS instance ${instanceId}, as ${
            initiator.userEntityRef ?? 'the initiator'
          } asked (liftDeletionProtection: true)`,
        );
      }
      await ctx.checkpoint({
        key: `mlflow:rds:${instanceId}:modify`,
        fn: async () => {
          ctx.logger.info(
            `Asking RDS to modify instance ${instanceId} (${
              input.applyImmediately
                ? 'apply immediately'
                : 'maintenance window'
            })`,
          );
          await modifyRdsInstance(
            rds,
            instanceId,
            changes,
            input.applyImmediately,
          );
        },
      });
      const atOnce = changes.filter(c => c.when === 'at once');
      const after =
        atOnce.length > 0
          ? await waitForRdsModification(rds, instanceId, atOnce, {
              timeoutSeconds: input.timeoutSeconds,
              logger: ctx.logger,
              signal: ctx.signal,
              pollIntervalMs: options.pollIntervalMs ?? 5_000,
            })
          : await describeDbInstance(rds, instanceId);
      const pending = after ? pendingLines(after) : [];
      if (pending.length > 0) {
        ctx.logger.info(
          `Pending on RDS instance ${instanceId} until its maintenance window (${
            after?.PreferredMaintenanceWindow ?? 'unknown'
          }): ${pending.join('; ')}`,
        );
      }
      ctx.output('pendingChanges', pending);
      ctx.output('status', after?.DBInstanceStatus ?? 'unknown');
    },
  });
}

/** What RDS holds for the maintenance window, as `instance class db.t4g.small`. */
function pendingLines(instance: DBInstance): string[] {
  const pending = instance.PendingModifiedValues ?? {};
  return [
    pending.DBInstanceClass !== undefined &&
      `instance class ${pending.DBInstanceClass}`,
    pending.AllocatedStorage !== undefined &&
      `allocated storage (GiB) ${pending.AllocatedStorage}`,
    pending.BackupRetentionPeriod !== undefined &&
      `backup retention (days) ${pending.BackupRetentionPeriod}`,
  ].filter((line): line is string => typeof line === 'string');
}
