import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  BucketLocationConstraint,
  ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { awsErrorName, awsHttpStatus, callAws } from '../aws/awsErrors';
import {
  AwsClientConfigProvider,
  awsPartition,
  callerAccountId,
} from '../aws/clients';
import { isOursTagged, mlflowTags } from '../aws/tags';
import {
  accountIdInput,
  artifactPrefixInput,
  environmentInput,
  nameInput,
  ownerInput,
  regionInput,
  tagsInput,
} from './inputProperties';
import { examples } from './s3Create.examples';

type BucketState = 'absent' | 'ours';

/** Creates the artifact bucket of an MLflow instance with secure settings; converges on re-runs. */
export function createS3CreateAction(options: {
  aws: AwsClientConfigProvider;
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
        bucket: z =>
          z
            .string()
            .describe(
              'Bucket name: 3 to 63 lowercase letters, digits, dots and hyphens; globally unique across AWS.',
            ),
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
      const {
        noncurrentVersionExpirationDays,
        environment,
        owner,
        tags,
        accountId,
      } = ctx.input;
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
      const artifactRoot = `s3://${bucket}/${prefix}`;
      const config = await options.aws.forRegion({ region, accountId });
      const s3 = new S3Client(config);
      const account = await callerAccountId(config);
      const target = `bucket "${bucket}"`;

      ctx.logger.info(`Checking whether bucket ${bucket} exists`);
      const state = await bucketState(s3, bucket, account, name, region);

      const encryption: ServerSideEncryptionRule = kmsKeyId
        ? {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: kmsKeyId,
            },
            BucketKeyEnabled: true,
          }
        : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } };
      const bucketTags = mlflowTags({ name, owner, environment, extra: tags });

      ctx.logger.info(
        `Plan for bucket ${bucket} in ${region}: ${
          state === 'absent' ? 'create it' : 'it exists and is ours; converge'
        }, block all public access, enforce bucket owner, encrypt with ${
          kmsKeyId ? `SSE-KMS (${kmsKeyId}, bucket key)` : 'SSE-S3'
        }, enable versioning, deny non-TLS requests, expire noncurrent versions after ${noncurrentVersionExpirationDays} days, tag for instance ${name}`,
      );

      if (!ctx.isDryRun) {
        if (state === 'absent') {
          ctx.logger.info(`Creating bucket ${bucket} in ${region}`);
          await ctx.checkpoint({
            key: `mlflow:s3:${bucket}:create`,
            fn: async () => {
              await callAws('s3:CreateBucket', target, () =>
                s3.send(
                  new CreateBucketCommand({
                    Bucket: bucket,
                    ObjectOwnership: 'BucketOwnerEnforced',
                    // us-east-1 is the default location and rejects being named.
                    CreateBucketConfiguration:
                      region === 'us-east-1'
                        ? undefined
                        : {
                            LocationConstraint:
                              region as BucketLocationConstraint,
                          },
                  }),
                ),
              );
              // Tag straight away so a crash before the other steps leaves a bucket we recognise.
              await callAws('s3:PutBucketTagging', target, () =>
                s3.send(
                  new PutBucketTaggingCommand({
                    Bucket: bucket,
                    Tagging: { TagSet: bucketTags },
                  }),
                ),
              );
            },
          });
        }

        const steps: Array<{
          key: string;
          permission: string;
          log: string;
          run: () => Promise<unknown>;
        }> = [
          {
            key: 'public-access-block',
            permission: 's3:PutBucketPublicAccessBlock',
            log: 'Blocking all public access',
            run: () =>
              s3.send(
                new PutPublicAccessBlockCommand({
                  Bucket: bucket,
                  PublicAccessBlockConfiguration: {
                    BlockPublicAcls: true,
                    IgnorePublicAcls: true,
                    BlockPublicPolicy: true,
                    RestrictPublicBuckets: true,
                  },
                }),
              ),
          },
          {
            key: 'ownership-controls',
            permission: 's3:PutBucketOwnershipControls',
            log: 'Enforcing bucket owner for all objects (ACLs disabled)',
            run: () =>
              s3.send(
                new PutBucketOwnershipControlsCommand({
                  Bucket: bucket,
                  OwnershipControls: {
                    Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
                  },
                }),
              ),
          },
          {
            key: 'encryption',
            permission: 's3:PutEncryptionConfiguration',
            log: 'Setting default encryption',
            run: () =>
              s3.send(
                new PutBucketEncryptionCommand({
                  Bucket: bucket,
                  ServerSideEncryptionConfiguration: { Rules: [encryption] },
                }),
              ),
          },
          {
            key: 'versioning',
            permission: 's3:PutBucketVersioning',
            log: 'Enabling versioning',
            run: () =>
              s3.send(
                new PutBucketVersioningCommand({
                  Bucket: bucket,
                  VersioningConfiguration: { Status: 'Enabled' },
                }),
              ),
          },
          {
            key: 'policy',
            permission: 's3:PutBucketPolicy',
            log: 'Setting a bucket policy that denies requests without TLS',
            run: () =>
              s3.send(
                new PutBucketPolicyCommand({
                  Bucket: bucket,
                  Policy: JSON.stringify(tlsOnlyPolicy(arn)),
                }),
              ),
          },
          {
            key: 'lifecycle',
            permission: 's3:PutLifecycleConfiguration',
            log: `Expiring noncurrent versions after ${noncurrentVersionExpirationDays} days`,
            run: () =>
              s3.send(
                new PutBucketLifecycleConfigurationCommand({
                  Bucket: bucket,
                  LifecycleConfiguration: {
                    Rules: [
                      {
                        ID: 'mlflow-noncurrent-versions',
                        Status: 'Enabled',
                        Filter: { Prefix: '' },
                        NoncurrentVersionExpiration: {
                          NoncurrentDays: noncurrentVersionExpirationDays,
                        },
                        AbortIncompleteMultipartUpload: {
                          DaysAfterInitiation: 7,
                        },
                      },
                    ],
                  },
                }),
              ),
          },
          {
            key: 'tags',
            permission: 's3:PutBucketTagging',
            log: 'Tagging the bucket',
            run: () =>
              s3.send(
                new PutBucketTaggingCommand({
                  Bucket: bucket,
                  Tagging: { TagSet: bucketTags },
                }),
              ),
          },
        ];
        for (const step of steps) {
          ctx.logger.info(`${step.log} on bucket ${bucket}`);
          await ctx.checkpoint({
            key: `mlflow:s3:${bucket}:${step.key}`,
            fn: async () => {
              await callAws(step.permission, target, step.run);
            },
          });
        }
      }

      ctx.output('bucket', bucket);
      ctx.output('arn', arn);
      ctx.output('region', region);
      ctx.output('artifactRoot', artifactRoot);
    },
  });
}

/** Denies every request to the bucket that does not use TLS. */
export function tlsOnlyPolicy(bucketArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

async function bucketState(
  s3: S3Client,
  bucket: string,
  account: string,
  name: string,
  region: string,
): Promise<BucketState> {
  try {
    await s3.send(
      new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: account }),
    );
  } catch (error) {
    const status = awsHttpStatus(error);
    const code = awsErrorName(error);
    if (status === 404 || code === 'NotFound' || code === 'NoSuchBucket') {
      return 'absent';
    }
    if (status === 403) {
      throw new InputError(
        `Invalid bucket: received ${describeReceived(
          bucket,
        )}, but that name is taken by another AWS account (or Backstage may not call s3:ListBucket on it). Bucket names are global; choose another name.`,
      );
    }
    if (status === 301) {
      throw new InputError(
        `Invalid bucket: received ${describeReceived(
          bucket,
        )}, but a bucket of that name exists in a region other than ${region}. Choose another name or region.`,
      );
    }
    return callAws('s3:ListBucket', `bucket "${bucket}"`, () =>
      Promise.reject(error),
    );
  }
  let tagSet: Array<{ Key?: string; Value?: string }> = [];
  try {
    const tagging = await s3.send(
      new GetBucketTaggingCommand({ Bucket: bucket }),
    );
    tagSet = tagging.TagSet ?? [];
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchTagSet') {
      await callAws('s3:GetBucketTagging', `bucket "${bucket}"`, () =>
        Promise.reject(error),
      );
    }
  }
  if (!isOursTagged(tagSet, name)) {
    throw new InputError(
      `Invalid bucket: received ${describeReceived(
        bucket,
      )}, but that bucket already exists in this account and was not created for MLflow instance "${name}" (it lacks the tag stateful-mlflow/instance=${name}). It is not adopted silently: choose another bucket name, or tag the bucket if it really belongs to this instance.`,
    );
  }
  return 'ours';
}
