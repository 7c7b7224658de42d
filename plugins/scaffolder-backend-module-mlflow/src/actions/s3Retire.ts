import { S3Client } from '@aws-sdk/client-s3';
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
import { authorizeDecommission } from '../authorization/authorizeRun';
import { AwsClientConfigProvider, callerAccountId } from '../aws/clients';
import { readBucketState } from '../aws/s3';
import {
  bucketRetainedUntil,
  deleteBucket,
  emptyBucket,
  retentionDate,
  tagBucketRetained,
} from '../aws/s3Retire';
import { deleteBucketInput, retentionDaysInput } from './decommissionInputs';
import {
  accountIdInput,
  bucketInput,
  nameInput,
  regionInput,
} from './inputProperties';
import { examples } from './s3Retire.examples';

/** Retires the artifact bucket of a decommissioned instance: kept and tagged, or emptied and deleted. */
export function createS3RetireAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
}) {
  return createTemplateAction({
    id: 'mlflow:s3:retire',
    description:
      "Retires the artifact bucket of a decommissioned MLflow instance. By default the bucket and its artifacts stay, tagged as retained with the date until which they are kept (a restore can use them). With deleteBucket, every object version is deleted and then the bucket. A bucket without the instance's tag is refused and left alone.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        bucket: z => bucketInput(z).optional(),
        deleteBucket: deleteBucketInput,
        retentionDays: retentionDaysInput,
      },
      output: {
        bucket: z => z.string().describe('Name of the bucket.'),
        retained: z =>
          z
            .boolean()
            .describe('Whether the bucket is kept (tagged as retained).'),
        retainedUntil: z =>
          z
            .string()
            .optional()
            .describe(
              'The retained-until date (YYYY-MM-DD) of a retained bucket.',
            ),
      },
    },
    async handler(ctx) {
      const { deleteBucket: deleteIt, retentionDays } = ctx.input;
      const name = validateName(nameRules.instanceName, 'name', ctx.input.name);
      const names = resolveInstanceNames({ name, bucket: ctx.input.bucket });
      const region = validateName(
        nameRules.awsRegion,
        'region',
        ctx.input.region,
      );
      const bucket = validateName(
        nameRules.s3BucketName,
        'bucket',
        names.bucket,
      );
      const config = await options.aws.forRegion({
        region,
        accountId: ctx.input.accountId,
      });
      const s3 = new S3Client(config);
      const account = await callerAccountId(config);

      ctx.logger.info(`Checking bucket ${bucket}`);
      const state = await readBucketState(s3, {
        bucket,
        account,
        name,
        region,
      });
      if (state.kind === 'foreign' || state.kind === 'untagged') {
        throw new InputError(
          `Invalid bucket: received ${describeReceived(
            bucket,
          )}, but that bucket was not created for MLflow instance "${name}" (it lacks the tag ${OWNERSHIP_TAG_KEY}=${name}). Nothing was changed.`,
        );
      }
      await authorizeDecommission({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing:
          state.kind === 'ours'
            ? [{ resource: `bucket ${bucket}`, owner: state.owner }]
            : [],
        log: message => ctx.logger.info(message),
      });
      ctx.output('bucket', bucket);
      if (state.kind === 'absent') {
        ctx.logger.info(`Bucket ${bucket} is gone`);
        ctx.output('retained', false);
        return;
      }
      const retainedUntil = await bucketRetainedUntil(s3, bucket);
      if (deleteIt) {
        ctx.logger.info(
          `Plan for bucket ${bucket}: delete every object version and delete marker, then the bucket (deleteBucket: true)`,
        );
        ctx.output('retained', false);
        if (ctx.isDryRun) {
          return;
        }
        await ctx.checkpoint({
          key: `mlflow:s3:${bucket}:empty`,
          fn: async () => {
            ctx.logger.info(`Emptying bucket ${bucket}`);
            const count = await emptyBucket(s3, {
              bucket,
              logger: ctx.logger,
              signal: ctx.signal,
            });
            ctx.logger.info(
              `Bucket ${bucket} is empty (${count} version(s) deleted)`,
            );
          },
        });
        await ctx.checkpoint({
          key: `mlflow:s3:${bucket}:delete`,
          fn: async () => {
            ctx.logger.info(`Deleting bucket ${bucket}`);
            await deleteBucket(s3, bucket);
          },
        });
        return;
      }
      ctx.output('retained', true);
      if (retainedUntil) {
        ctx.logger.info(
          `Bucket ${bucket} is already retained until ${retainedUntil}; nothing to change`,
        );
        ctx.output('retainedUntil', retainedUntil);
        return;
      }
      const now = new Date();
      const until = retentionDate(now, retentionDays);
      ctx.logger.info(
        `Plan for bucket ${bucket}: keep it and its artifacts, tagged as retained until ${until} (${retentionDays} days)`,
      );
      if (ctx.isDryRun) {
        ctx.output('retainedUntil', until);
        return;
      }
      const tagged = await ctx.checkpoint({
        key: `mlflow:s3:${bucket}:retain`,
        fn: async () => {
          ctx.logger.info(
            `Tagging bucket ${bucket} as retained until ${until}`,
          );
          await tagBucketRetained(s3, {
            bucket,
            retainedAt: now.toISOString().slice(0, 10),
            retainedUntil: until,
          });
          return until;
        },
      });
      ctx.output('retainedUntil', tagged);
    },
  });
}
