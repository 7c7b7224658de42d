import {
  BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { InputError } from '@backstage/errors';
import { describeReceived } from '@stateful-mlflow/plugin-mlflow-common';
import { awsErrorName, awsHttpStatus, callAws } from './awsErrors';
import { RETAINED_TAG_KEY, RETAINED_UNTIL_TAG_KEY } from './s3Retire';
import { AwsTag, taggedIdentity } from './tags';

/** What exists under a bucket name in the caller's account. */
export type BucketState =
  | { kind: 'absent' }
  /**
   * Tagged for this instance; `owner` is the owner its tags record, `retainedUntil` set while a
   * decommission's retained tags are on it (a restore under the same name adopts it).
   */
  | { kind: 'ours'; owner?: string; retainedUntil?: string }
  /** Ours or not: created without our tag, e.g. by a run that stopped before tagging it. */
  | { kind: 'untagged'; createdAt?: Date; empty: boolean }
  | { kind: 'foreign' };

/** The longest a run takes from seeing the name free to its CreateBucket call returning. */
const CREATE_WINDOW_MS = 5 * 60_000;

const target = (bucket: string) => `bucket "${bucket}"`;

/** Reads whether the bucket exists, and whether our instance `name` owns it. Read-only. */
export async function readBucketState(
  s3: S3Client,
  options: { bucket: string; account: string; name: string; region: string },
): Promise<BucketState> {
  const { bucket, account, region } = options;
  try {
    await s3.send(
      new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: account }),
    );
  } catch (error) {
    const status = awsHttpStatus(error);
    const code = awsErrorName(error);
    if (status === 404 || code === 'NotFound' || code === 'NoSuchBucket') {
      return { kind: 'absent' };
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
    return callAws('s3:ListBucket', target(bucket), () =>
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
      await callAws('s3:GetBucketTagging', target(bucket), () =>
        Promise.reject(error),
      );
    }
  }
  const identity = taggedIdentity(tagSet, options.name);
  if (identity.kind === 'ours') {
    const tag = (key: string) => tagSet.find(t => t.Key === key);
    return tag(RETAINED_TAG_KEY)
      ? {
          ...identity,
          retainedUntil: tag(RETAINED_UNTIL_TAG_KEY)?.Value ?? 'unknown',
        }
      : identity;
  }
  if (tagSet.length > 0) {
    return { kind: 'foreign' };
  }
  const [createdAt, empty] = await Promise.all([
    bucketCreationDate(s3, bucket),
    isBucketEmpty(s3, bucket),
  ]);
  return { kind: 'untagged', createdAt, empty };
}

async function bucketCreationDate(s3: S3Client, bucket: string) {
  const listed = await callAws('s3:ListAllMyBuckets', target(bucket), () =>
    s3.send(new ListBucketsCommand({ Prefix: bucket })),
  );
  return listed.Buckets?.find(b => b.Name === bucket)?.CreationDate;
}

async function isBucketEmpty(s3: S3Client, bucket: string) {
  const listed = await callAws('s3:ListBucketVersions', target(bucket), () =>
    s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1 })),
  );
  return !listed.Versions?.length && !listed.DeleteMarkers?.length;
}

/**
 * Whether an untagged bucket is the one this task created before it stopped: the task saw the name
 * free at `absentAt` (so anything older would have been seen), the bucket was created within the
 * following create window (S3 gives whole seconds), and it is still empty. Anything else is
 * someone else's bucket and is never adopted.
 */
export function isOwnUntaggedBucket(
  state: BucketState,
  absentAt: string | null | undefined,
): boolean {
  if (state.kind !== 'untagged' || !absentAt || !state.createdAt) {
    return false;
  }
  const seenFree = new Date(absentAt).getTime();
  const created = state.createdAt.getTime();
  return (
    state.empty &&
    created >= Math.floor(seenFree / 1000) * 1000 &&
    created <= seenFree + CREATE_WINDOW_MS
  );
}

/** The refusal of a bucket that exists but was not created for the instance `name`. */
export function foreignBucketError(bucket: string, name: string): InputError {
  return new InputError(
    `Invalid bucket: received ${describeReceived(
      bucket,
    )}, but that bucket already exists in this account and was not created for MLflow instance "${name}" (it lacks the tag stateful-mlflow/instance=${name}). It is not adopted silently: choose another bucket name, or tag the bucket if it really belongs to this instance.`,
  );
}

export async function createBucket(
  s3: S3Client,
  bucket: string,
  region: string,
): Promise<void> {
  await callAws('s3:CreateBucket', target(bucket), () =>
    s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ObjectOwnership: 'BucketOwnerEnforced',
        // us-east-1 is the default location and rejects being named.
        CreateBucketConfiguration:
          region === 'us-east-1'
            ? undefined
            : { LocationConstraint: region as BucketLocationConstraint },
      }),
    ),
  );
}

/** One idempotent setting of the bucket, run in its own checkpoint. */
export type BucketStep = {
  key: string;
  permission: string;
  log: string;
  run(): Promise<unknown>;
};

/**
 * The settings of an artifact bucket, tags first: a bucket that carries our tag is recognised as
 * ours by every later run.
 */
export function bucketSettingSteps(
  s3: S3Client,
  options: {
    bucket: string;
    arn: string;
    kmsKeyId?: string;
    noncurrentVersionExpirationDays: number;
    tags: AwsTag[];
  },
): BucketStep[] {
  const Bucket = options.bucket;
  const encryption: ServerSideEncryptionRule = options.kmsKeyId
    ? {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms',
          KMSMasterKeyID: options.kmsKeyId,
        },
        BucketKeyEnabled: true,
      }
    : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } };
  const days = options.noncurrentVersionExpirationDays;
  return [
    {
      key: 'tags',
      permission: 's3:PutBucketTagging',
      log: 'Tagging the bucket',
      run: () =>
        s3.send(
          new PutBucketTaggingCommand({
            Bucket,
            Tagging: { TagSet: options.tags },
          }),
        ),
    },
    {
      key: 'public-access-block',
      permission: 's3:PutBucketPublicAccessBlock',
      log: 'Blocking all public access',
      run: () =>
        s3.send(
          new PutPublicAccessBlockCommand({
            Bucket,
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
            Bucket,
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
            Bucket,
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
            Bucket,
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
            Bucket,
            Policy: JSON.stringify(tlsOnlyPolicy(options.arn)),
          }),
        ),
    },
    {
      key: 'lifecycle',
      permission: 's3:PutLifecycleConfiguration',
      log: `Expiring noncurrent versions after ${days} days`,
      run: () =>
        s3.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket,
            LifecycleConfiguration: {
              Rules: [
                {
                  ID: 'mlflow-noncurrent-versions',
                  Status: 'Enabled',
                  Filter: { Prefix: '' },
                  NoncurrentVersionExpiration: { NoncurrentDays: days },
                  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
                },
              ],
            },
          }),
        ),
    },
  ];
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
