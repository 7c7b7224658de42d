import { S3Client } from '@aws-sdk/client-s3';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { nameRules, validateName } from '@stateful-mlflow/plugin-mlflow-common';
import { callAws } from '../aws/awsErrors';
import {
  AwsClientConfigProvider,
  awsPartition,
  callerAccountId,
} from '../aws/clients';
import { describeAdoption, readRetainedBucket } from '../aws/s3Retained';
import {
  BucketState,
  bucketSettingSteps,
  createBucket,
  foreignBucketError,
  isOwnUntaggedBucket,
  readBucketState,
} from '../aws/s3';
import { mlflowTags } from '../aws/tags';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun } from '../authorization/authorizeRun';
import {
  accountIdInput,
  artifactPrefixInput,
  bucketInput,
  environmentInput,
  nameInput,
  ownerInput,
  regionInput,
  tagsInput,
} from './inputProperties';
import { examples } from './s3Create.examples';

/**
 * Creates the artifact bucket of an MLflow instance with secure settings; converges on re-runs.
 *
 * @public
 */
export function createS3CreateAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
}) {
  return createTemplateAction({
    id: 'mlflow:s3:create',
    description:
      'Creates (or converges) the S3 bucket holding the artifacts of an MLflow instance: public access blocked, bucket owner enforced, encrypted (SSE-S3 or SSE-KMS with a bucket key), versioned, TLS-only, noncurrent versions expired, tagged.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        bucket: bucketInput,
        region: regionInput,
        accountId: accountIdInput,
        artifactPrefix: artifactPrefixInput,
        kmsKeyId: z =>
          z
            .string()
            .optional()
            .describe(
              'KMS key (id, ARN or alias) for SSE-KMS with a bucket key; SSE-S3 when empty.',
            ),
        noncurrentVersionExpirationDays: z =>
          z
            .number()
            .int()
            .min(1)
            .max(3650)
            .default(30)
            .describe(
              'Days after which overwritten or deleted artifact versions are removed.',
            ),
        retainedBucket: z =>
          z
            .string()
            .optional()
            .describe(
              "Restore under a new name: a bucket a decommission retained (tagged stateful-mlflow/retained), adopted with its artifacts as this instance's bucket; the same as bucket. Refused unless it was retainedFromInstance's (when given) and its recorded owner allows the initiator. An instance's own retained bucket (same name) is adopted without it.",
            ),
        retainedFromInstance: z =>
          z
            .string()
            .optional()
            .describe(
              "The MLflow instance the retained bucket must have belonged to: the restored snapshot's (mlflow:rds:create's restoredFrom output).",
            ),
        environment: environmentInput,
        owner: ownerInput,
        tags: tagsInput,
      },
      output: {
        bucket: z => z.string().describe('Bucket name.'),
        arn: z => z.string().describe('Bucket ARN.'),
        region: z => z.string().describe('Region of the bucket.'),
        artifactRoot: z =>
          z
            .string()
            .describe(
              'Artifact root for MLflow: s3://<bucket>/<prefix>, the deploy action input artifactsDestination.',
            ),
      },
    },
    async handler(ctx) {
      const { noncurrentVersionExpirationDays, environment, accountId } =
        ctx.input;
      const name = validateName(nameRules.instanceName, 'name', ctx.input.name);
      const bucket = validateName(
        nameRules.s3BucketName,
        'bucket',
        ctx.input.bucket,
      );
      const region = validateName(
        nameRules.awsRegion,
        'region',
        ctx.input.region,
      );
      const prefix = validateName(
        nameRules.artifactPrefix,
        'artifactPrefix',
        ctx.input.artifactPrefix,
      );
      const kmsKeyId =
        ctx.input.kmsKeyId &&
        validateName(nameRules.kmsKeyId, 'kmsKeyId', ctx.input.kmsKeyId);

      const arn = `arn:${awsPartition(region)}:s3:::${bucket}`;
      const config = await options.aws.forRegion({ region, accountId });
      const s3 = new S3Client(config);
      const account = await callerAccountId(config);

      const retainedBucket =
        ctx.input.retainedBucket &&
        validateName(
          nameRules.s3BucketName,
          'retainedBucket',
          ctx.input.retainedBucket,
        );
      if (retainedBucket && retainedBucket !== bucket) {
        throw new InputError(
          `Invalid retainedBucket: received "${retainedBucket}", but bucket is "${bucket}". Accepted: the same name in both (the retained bucket becomes this instance's bucket).`,
        );
      }
      ctx.logger.info(`Checking whether bucket ${bucket} exists`);
      const checkedAt = new Date().toISOString();
      // A bucket retained from another instance carries that instance's tags: read as such.
      const retained = retainedBucket
        ? await readRetainedBucket(s3, {
            bucket,
            account,
            name,
            fromInstance:
              ctx.input.retainedFromInstance &&
              validateName(
                nameRules.instanceName,
                'retainedFromInstance',
                ctx.input.retainedFromInstance,
              ),
          })
        : undefined;
      const state: BucketState = retained
        ? { kind: 'ours', owner: retained.owner }
        : await readBucketState(s3, { bucket, account, name, region });
      // When this task saw the name free; replayed on recovery, so an untagged bucket created
      // right after that moment is recognised as the one this task created before it stopped.
      const intent =
        ctx.isDryRun || (state.kind !== 'absent' && state.kind !== 'untagged')
          ? undefined
          : await ctx.checkpoint({
              key: `mlflow:s3:${bucket}:intent`,
              fn: () => ({
                absentAt: state.kind === 'absent' ? checkedAt : null,
              }),
            });
      const adopt = isOwnUntaggedBucket(state, intent?.absentAt);
      if (state.kind === 'foreign' || (state.kind === 'untagged' && !adopt)) {
        throw foreignBucketError(bucket, name);
      }
      const { owner } = await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        requestedOwner: ctx.input.owner,
        // An adopted untagged bucket is this task's own creation, not an existing instance.
        existing:
          state.kind === 'ours'
            ? [
                {
                  resource: retained
                    ? `bucket ${bucket} retained from MLflow instance ${retained.sourceInstance}`
                    : `bucket ${bucket}`,
                  owner: state.owner,
                },
              ]
            : [],
        log: message => ctx.logger.info(message),
      });

      const adoption = describeAdoption(state, retained);
      ctx.logger.info(
        `Plan for bucket ${bucket} in ${region}: ${
          adoption ??
          {
            absent: 'create it',
            ours: 'it exists and is ours; converge',
            untagged:
              'this task created it before it stopped, untagged and empty; adopt and converge',
          }[state.kind]
        }, block all public access, enforce bucket owner, encrypt with ${
          kmsKeyId ? `SSE-KMS (${kmsKeyId}, bucket key)` : 'SSE-S3'
        }, enable versioning, deny non-TLS requests, expire noncurrent versions after ${noncurrentVersionExpirationDays} days, tag for instance ${name}`,
      );

      if (!ctx.isDryRun) {
        if (state.kind === 'absent') {
          ctx.logger.info(`Creating bucket ${bucket} in ${region}`);
          await ctx.checkpoint({
            key: `mlflow:s3:${bucket}:create`,
            fn: () => createBucket(s3, bucket, region),
          });
        }
        const steps = bucketSettingSteps(s3, {
          bucket,
          arn,
          kmsKeyId,
          noncurrentVersionExpirationDays,
          tags: mlflowTags({ name, owner, environment, extra: ctx.input.tags }),
        });
        for (const step of steps) {
          ctx.logger.info(`${step.log} on bucket ${bucket}`);
          await ctx.checkpoint({
            key: `mlflow:s3:${bucket}:${step.key}`,
            fn: async () => {
              await callAws(step.permission, `bucket "${bucket}"`, step.run);
            },
          });
        }
      }

      ctx.output('bucket', bucket);
      ctx.output('arn', arn);
      ctx.output('region', region);
      ctx.output('artifactRoot', `s3://${bucket}/${prefix}`);
    },
  });
}
