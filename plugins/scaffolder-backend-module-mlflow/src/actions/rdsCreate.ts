import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { nameRules, validateName } from '@stateful-mlflow/plugin-mlflow-common';
import {
  AwsClientConfigProvider,
  awsPartition,
  callerAccountId,
} from '../aws/clients';
import { allowPostgresFrom, createSecurityGroup } from '../aws/ec2';
import {
  createPostgresInstance,
  dbInstanceArn,
  describeDbInstance,
  ensureTlsParameterGroup,
  waitForDbInstanceAvailable,
} from '../aws/rds';
import {
  inspectPostgresInstance,
  planPostgresInstance,
} from '../aws/rdsInstancePlan';
import {
  readRestorableSnapshot,
  RestorableSnapshot,
  restorePostgresInstance,
} from '../aws/rdsRestore';
import { readRetainedBucket } from '../aws/s3Retained';
import {
  mlflowTags,
  RESTORED_FROM_TAG_KEY,
  restoredFromTag,
  taggedIdentity,
} from '../aws/tags';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun, ExistingResource } from '../authorization/authorizeRun';
import { StepDeadline } from '../util/stepDeadline';
import { examples } from './rdsCreate.examples';
import { rdsCreateInput, rdsCreateOutput } from './rdsCreate.schema';

/**
 * Creates the PostgreSQL RDS instance of an MLflow instance with secure defaults.
 *
 * @public
 */
export function createRdsCreateAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
  /** Milliseconds between status polls while waiting; tests shorten it. */
  pollIntervalMs?: number;
  /** Longest time one AWS call may take; the step's timeoutSeconds bounds it too. */
  callTimeoutMs?: number;
}) {
  const pollIntervalMs = options.pollIntervalMs ?? 15_000;
  return createTemplateAction({
    id: 'mlflow:rds:create',
    description:
      'Creates (or converges) the PostgreSQL RDS instance that is the backend store of an MLflow instance: encrypted, private, gp3 with storage autoscaling, backups, Multi-AZ and deletion protection in prod, TLS forced, master password managed by RDS in Secrets Manager, and a security group allowing 5432 only from the given security groups.',
    examples,
    supportsDryRun: true,
    schema: { input: rdsCreateInput, output: rdsCreateOutput },
    async handler(ctx) {
      const { environment, timeoutSeconds, waitForAvailable } = ctx.input;
      const plan = planPostgresInstance(ctx.input);
      const { name, region, instanceId, spec, securityGroupName } = plan;
      const { allowedSecurityGroupIds } = plan;
      plan.warnings.forEach(warning => ctx.logger.warn(warning));

      const deadline = new StepDeadline({
        timeoutSeconds,
        signal: ctx.signal,
        callTimeoutMs: options.callTimeoutMs,
      });
      const config = await options.aws.forRegion({
        region,
        accountId: ctx.input.accountId,
      });
      const rds = new RDSClient(config);
      const ec2 = new EC2Client(config);
      const account = await callerAccountId(config, deadline);
      const arn = dbInstanceArn(region, account, instanceId);

      const { existing, existingGroup, vpcId } = await inspectPostgresInstance(
        { rds, ec2 },
        plan,
        { logger: ctx.logger, deadline },
      );
      // inspectPostgresInstance refused foreign ones: what exists here is this instance's.
      const found: ExistingResource[] = [];
      if (existing) {
        const identity = taggedIdentity(existing.TagList, name);
        found.push({
          resource: `RDS instance ${instanceId}`,
          owner: identity.kind === 'ours' ? identity.owner : undefined,
        });
      }
      // Restoring hands the snapshot's data to this instance: its recorded owner must agree.
      let restoreFrom: RestorableSnapshot | undefined;
      if (ctx.input.snapshotIdentifier && !existing) {
        restoreFrom = await readRestorableSnapshot(
          rds,
          validateName(
            nameRules.rdsInstanceIdentifier,
            'snapshotIdentifier',
            ctx.input.snapshotIdentifier,
          ),
        );
        found.push({
          resource: `snapshot ${restoreFrom.snapshotId} of MLflow instance ${restoreFrom.sourceInstance}`,
          owner: restoreFrom.owner,
        });
        // The bucket the restore will adopt is judged now, before anything changes.
        if (ctx.input.retainedBucket) {
          const retained = await readRetainedBucket(new S3Client(config), {
            bucket: validateName(
              nameRules.s3BucketName,
              'retainedBucket',
              ctx.input.retainedBucket,
            ),
            account,
            name,
            fromInstance: restoreFrom.sourceInstance,
          });
          found.push({
            resource: `bucket ${retained.bucket} retained from MLflow instance ${retained.sourceInstance}`,
            owner: retained.owner,
          });
        }
      }
      if (existingGroup) {
        const identity = taggedIdentity(existingGroup.Tags, name);
        found.push({
          resource: `security group ${existingGroup.GroupId}`,
          owner: identity.kind === 'ours' ? identity.owner : undefined,
        });
      }
      const { owner } = await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        requestedOwner: ctx.input.owner,
        existing: found,
        log: message => ctx.logger.info(message),
      });
      const resourceTags = mlflowTags({
        name,
        owner,
        environment,
        extra: ctx.input.tags,
      });

      if (ctx.isDryRun) {
        ctx.output('instanceId', instanceId);
        ctx.output('arn', arn);
        ctx.output(
          'endpoint',
          existing?.Endpoint?.Address ??
            `${instanceId}.dry-run.${region}.rds.amazonaws.com`,
        );
        ctx.output('port', existing?.Endpoint?.Port ?? 5432);
        ctx.output(
          'masterSecretArn',
          existing?.MasterUserSecret?.SecretArn ??
            `arn:${awsPartition(
              region,
            )}:secretsmanager:${region}:${account}:secret:rds!db-dry-run`,
        );
        ctx.output('securityGroupId', existingGroup?.GroupId ?? 'sg-00000000');
        ctx.output('status', existing?.DBInstanceStatus ?? 'dry-run');
        ctx.output(
          'restoredFrom',
          restoreFrom?.sourceInstance ?? restoredFromTag(existing?.TagList),
        );
        return;
      }

      const securityGroupId =
        existingGroup?.GroupId ??
        (await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:security-group`,
          fn: () => {
            ctx.logger.info(
              `Creating security group ${securityGroupName} in ${vpcId}`,
            );
            return createSecurityGroup(
              ec2,
              {
                groupName: securityGroupName,
                description: `PostgreSQL of MLflow instance ${name}`,
                vpcId,
                tags: resourceTags,
              },
              deadline,
            );
          },
        }));
      for (const sourceGroupId of allowedSecurityGroupIds) {
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:ingress:${sourceGroupId}`,
          fn: () => {
            ctx.logger.info(
              `Allowing PostgreSQL (5432) into ${securityGroupId} from ${sourceGroupId}`,
            );
            return allowPostgresFrom(
              ec2,
              {
                groupId: securityGroupId,
                sourceGroupId,
                description: `PostgreSQL clients of MLflow instance ${name}`,
              },
              deadline,
            );
          },
        });
      }
      await ctx.checkpoint({
        key: `mlflow:rds:${instanceId}:parameter-group`,
        fn: () =>
          ensureTlsParameterGroup(
            rds,
            {
              parameterGroupName: spec.parameterGroupName,
              family: plan.parameterGroupFamily,
              description: `MLflow instance ${name}: TLS forced`,
              tags: resourceTags,
              logger: ctx.logger,
            },
            deadline,
          ),
      });
      if (!existing) {
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:create`,
          fn: () => {
            if (restoreFrom) {
              ctx.logger.info(
                `Restoring RDS instance ${instanceId} in ${region} from snapshot ${restoreFrom.snapshotId} (MLflow instance ${restoreFrom.sourceInstance})`,
              );
              return restorePostgresInstance(
                rds,
                {
                  ...spec,
                  securityGroupId,
                  tags: [
                    ...resourceTags,
                    {
                      Key: RESTORED_FROM_TAG_KEY,
                      Value: restoreFrom.sourceInstance,
                    },
                  ],
                },
                restoreFrom.snapshotId,
                deadline,
              );
            }
            ctx.logger.info(`Creating RDS instance ${instanceId} in ${region}`);
            return createPostgresInstance(
              rds,
              { ...spec, securityGroupId, tags: resourceTags },
              deadline,
            );
          },
        });
      }

      const instance = waitForAvailable
        ? await waitForDbInstanceAvailable(rds, instanceId, {
            timeoutSeconds,
            logger: ctx.logger,
            signal: ctx.signal,
            pollIntervalMs,
            deadline,
          })
        : await describeDbInstance(rds, instanceId, deadline);
      if (!instance) {
        throw new Error(
          `RDS instance ${instanceId} is not visible after creation`,
        );
      }
      const masterSecretArn = instance.MasterUserSecret?.SecretArn ?? '';
      if (!masterSecretArn && instance.DBInstanceStatus === 'available') {
        throw new Error(
          `RDS instance ${instanceId} has no managed master secret (MasterUserSecret): it was created without ManageMasterUserPassword. Turn on "Manage master credentials in AWS Secrets Manager" for it.`,
        );
      }
      ctx.output('instanceId', instanceId);
      ctx.output('arn', instance.DBInstanceArn ?? arn);
      ctx.output('endpoint', instance.Endpoint?.Address ?? '');
      ctx.output('port', instance.Endpoint?.Port ?? 5432);
      ctx.output('masterSecretArn', masterSecretArn);
      ctx.output('securityGroupId', securityGroupId);
      ctx.output('status', instance.DBInstanceStatus ?? 'unknown');
      ctx.output('restoredFrom', restoredFromTag(instance.TagList));
    },
  });
}
