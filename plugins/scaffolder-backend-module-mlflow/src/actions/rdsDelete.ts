import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  OWNERSHIP_TAG_KEY,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import {
  authorizeDecommission,
  ExistingResource,
} from '../authorization/authorizeRun';
import { callAws } from '../aws/awsErrors';
import { AwsClientConfigProvider } from '../aws/clients';
import { describeDbInstance } from '../aws/rds';
import {
  deleteDbInstanceWithFinalSnapshot,
  deleteParameterGroup,
  deleteSecurityGroup,
  findInstanceParameterGroups,
  findInstanceSecurityGroup,
  finalSnapshotIdentifier,
  liftDeletionProtection,
  waitForDbInstanceDeleted,
  waitForDbSnapshotAvailable,
} from '../aws/rdsDelete';
import { resolveRdsInstanceTarget } from '../aws/rdsInstancePlan';
import {
  deleteInstanceSecret,
  readSecretState,
} from '../aws/secretsManagerDelete';
import { taggedIdentity } from '../aws/tags';
import {
  liftDeletionProtectionInput,
  secretsManagerNameInput,
} from './decommissionInputs';
import {
  accountIdInput,
  nameInput,
  rdsInstanceIdInput,
  regionInput,
  timeoutSecondsInput,
} from './inputProperties';
import { examples } from './rdsDelete.examples';

/** The newest final snapshot this action took of the instance, for a rerun after the deletion. */
async function latestFinalSnapshot(rds: RDSClient, instanceId: string) {
  const listed = await callAws(
    'rds:DescribeDBSnapshots',
    `the snapshots of RDS instance "${instanceId}"`,
    () =>
      rds.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: instanceId,
          SnapshotType: 'manual',
        }),
      ),
  );
  return (listed.DBSnapshots ?? [])
    .filter(s => s.DBSnapshotIdentifier?.startsWith(`${instanceId}-final-`))
    .sort((a, b) =>
      (b.DBSnapshotIdentifier ?? '').localeCompare(
        a.DBSnapshotIdentifier ?? '',
      ),
    )[0]?.DBSnapshotIdentifier;
}

/**
 * Deletes an instance's RDS PostgreSQL instance after a final snapshot (always), then its
 * security group, its TLS parameter group and the Secrets Manager copy of the credentials.
 */
export function createRdsDeleteAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
  pollIntervalMs?: number;
}) {
  return createTemplateAction({
    id: 'mlflow:rds:delete',
    description:
      "Deletes an MLflow instance's PostgreSQL on RDS after a final snapshot (never without one), waits until the snapshot is available and the instance gone, then deletes its security group, its parameter group and the Secrets Manager copy of the database credentials. Deletion protection is lifted only when asked for explicitly. Resources without the instance's tag are never touched.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        instanceId: rdsInstanceIdInput,
        liftDeletionProtection: liftDeletionProtectionInput,
        finalSnapshotIdentifier: z =>
          z
            .string()
            .optional()
            .describe(
              'Identifier of the final snapshot; <instanceId>-final-<UTC time> when empty.',
            ),
        secretsManagerName: secretsManagerNameInput,
        timeoutSeconds: z => timeoutSecondsInput(z, 1800),
      },
      output: {
        instanceId: z => z.string().describe('RDS DB instance identifier.'),
        finalSnapshotId: z =>
          z
            .string()
            .describe(
              'The final snapshot holding the data (restore from it); empty when the instance never existed.',
            ),
        deletionProtectionLifted: z =>
          z
            .boolean()
            .describe('Whether this run turned deletion protection off.'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const { name, region, instanceId } = resolveRdsInstanceTarget(input);
      const secretName = validateName(
        nameRules.secretsManagerName,
        'secretsManagerName',
        resolveInstanceNames({
          name,
          secretsManagerName: input.secretsManagerName,
        }).secretsManagerName,
      );
      const requestedSnapshot =
        input.finalSnapshotIdentifier &&
        validateName(
          nameRules.rdsInstanceIdentifier,
          'finalSnapshotIdentifier',
          input.finalSnapshotIdentifier,
        );
      const config = await options.aws.forRegion({
        region,
        accountId: input.accountId,
      });
      const rds = new RDSClient(config);
      const ec2 = new EC2Client(config);
      const secrets = new SecretsManagerClient(config);

      ctx.logger.info(
        `Reading RDS instance ${instanceId} and what belongs to it`,
      );
      const instance = await describeDbInstance(rds, instanceId);
      const existing: ExistingResource[] = [];
      if (instance) {
        const identity = taggedIdentity(instance.TagList, name);
        if (identity.kind === 'foreign') {
          throw new InputError(
            `Invalid instanceId: received ${describeReceived(
              instanceId,
            )}, but that RDS instance was not created for MLflow instance "${name}" (it lacks the tag ${OWNERSHIP_TAG_KEY}=${name}). Nothing was deleted.`,
          );
        }
        existing.push({
          resource: `RDS instance ${instanceId}`,
          owner: identity.owner,
        });
      }
      const securityGroup = await findInstanceSecurityGroup(ec2, {
        instanceId,
        name,
      });
      const parameterGroups = await findInstanceParameterGroups(rds, {
        instanceId,
        name,
      });
      const secret = await readSecretState(secrets, { secretName, name });
      if (securityGroup) {
        const groupIdentity = taggedIdentity(securityGroup.Tags, name);
        existing.push({
          resource: `security group ${securityGroup.GroupName}`,
          owner:
            groupIdentity.kind === 'ours' ? groupIdentity.owner : undefined,
        });
      }
      if (secret.kind === 'ours') {
        existing.push({
          resource: `secret ${secretName}`,
          owner: secret.owner,
        });
      }
      await authorizeDecommission({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing,
        log: message => ctx.logger.info(message),
      });

      const deleting = instance?.DBInstanceStatus === 'deleting';
      const isProtected = instance?.DeletionProtection === true && !deleting;
      if (isProtected && !input.liftDeletionProtection) {
        throw new InputError(
          `Invalid liftDeletionProtection: received false, but RDS instance ${instanceId} has deletion protection on. Nothing was deleted. Set liftDeletionProtection to true (the owner's explicit choice, logged) to turn it off and delete the instance after its final snapshot.`,
        );
      }
      let instancePlan = `RDS instance ${instanceId} is gone`;
      if (deleting) {
        instancePlan = `RDS instance ${instanceId} is already being deleted: wait for it and its final snapshot`;
      } else if (instance) {
        instancePlan = `${
          isProtected ? 'lift deletion protection, then ' : ''
        }delete RDS instance ${instanceId} after a final snapshot (${
          requestedSnapshot || `${instanceId}-final-<UTC time>`
        })`;
      }
      const plan = [
        instancePlan,
        securityGroup
          ? `delete security group ${securityGroup.GroupName} (${securityGroup.GroupId})`
          : undefined,
        ...parameterGroups.map(g => `delete parameter group ${g}`),
        secret.kind === 'ours'
          ? `delete Secrets Manager secret ${secretName}`
          : undefined,
        secret.kind === 'foreign'
          ? `leave Secrets Manager secret ${secretName} alone (not created for the instance)`
          : undefined,
      ].filter(Boolean);
      ctx.logger.info(`Plan for RDS: ${plan.join('; ')}`);
      ctx.output('instanceId', instanceId);

      if (ctx.isDryRun) {
        ctx.output(
          'finalSnapshotId',
          instance ? requestedSnapshot || `${instanceId}-final-dry-run` : '',
        );
        ctx.output('deletionProtectionLifted', isProtected);
        return;
      }

      const wait = {
        timeoutSeconds: input.timeoutSeconds,
        logger: ctx.logger,
        signal: ctx.signal,
        pollIntervalMs: options.pollIntervalMs ?? 5_000,
      };
      let finalSnapshotId = '';
      if (instance && !deleting) {
        // Decided once per task, so a recovered run looks for the same snapshot.
        finalSnapshotId = await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:final-snapshot-id`,
          fn: async () =>
            requestedSnapshot ||
            finalSnapshotIdentifier(instanceId, new Date()),
        });
        if (isProtected) {
          await ctx.checkpoint({
            key: `mlflow:rds:${instanceId}:lift-deletion-protection`,
            fn: async () => {
              const initiator = (await ctx.getInitiatorCredentials())
                .principal as {
                userEntityRef?: string;
              };
              ctx.logger.warn(
                `Lifting the deletion protection of RDS instance ${instanceId}, as ${
                  initiator.userEntityRef ?? 'the initiator'
                } asked (liftDeletionProtection: true)`,
              );
              await liftDeletionProtection(rds, instanceId);
            },
          });
        }
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:delete`,
          fn: async () => {
            // A recovered run may find its own deletion under way already.
            const current = await describeDbInstance(rds, instanceId);
            if (!current || current.DBInstanceStatus === 'deleting') {
              return;
            }
            ctx.logger.info(
              `Deleting RDS instance ${instanceId} after final snapshot ${finalSnapshotId}`,
            );
            await deleteDbInstanceWithFinalSnapshot(
              rds,
              instanceId,
              finalSnapshotId,
            );
          },
        });
      }
      if (instance) {
        await waitForDbInstanceDeleted(rds, instanceId, wait);
      }
      finalSnapshotId ||= (await latestFinalSnapshot(rds, instanceId)) ?? '';
      if (finalSnapshotId) {
        const snapshot = await waitForDbSnapshotAvailable(
          rds,
          finalSnapshotId,
          wait,
        );
        ctx.logger.info(
          `Final snapshot ${finalSnapshotId} is available (${
            snapshot.DBSnapshotArn ?? 'no ARN'
          })`,
        );
      }

      if (securityGroup?.GroupId) {
        const group = {
          groupId: securityGroup.GroupId,
          groupName: securityGroup.GroupName ?? securityGroup.GroupId,
        };
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:delete-security-group:${group.groupId}`,
          fn: async () => {
            ctx.logger.info(
              `Deleting security group ${group.groupName} (${group.groupId})`,
            );
            await deleteSecurityGroup(ec2, group);
          },
        });
      }
      for (const parameterGroup of parameterGroups) {
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:delete-parameter-group:${parameterGroup}`,
          fn: async () => {
            ctx.logger.info(`Deleting parameter group ${parameterGroup}`);
            await deleteParameterGroup(rds, parameterGroup);
          },
        });
      }
      if (secret.kind === 'ours') {
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:delete-secret:${secretName}`,
          fn: async () => {
            ctx.logger.info(`Deleting Secrets Manager secret ${secretName}`);
            await deleteInstanceSecret(secrets, secretName);
          },
        });
      }
      ctx.output('finalSnapshotId', finalSnapshotId);
      ctx.output('deletionProtectionLifted', isProtected);
    },
  });
}
