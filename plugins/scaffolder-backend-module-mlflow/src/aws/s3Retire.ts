import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  ListObjectVersionsCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { LoggerService } from '@backstage/backend-plugin-api';
import { findAws } from './awsErrors';
import { AwsTag } from './tags';

/** Tag marking a bucket kept after its instance was decommissioned. */
export const RETAINED_TAG_KEY = 'stateful-mlflow/retained';
/** Tag with the date (YYYY-MM-DD) until which a retained bucket is kept. */
export const RETAINED_UNTIL_TAG_KEY = 'stateful-mlflow/retained-until';

const target = (bucket: string) => `bucket "${bucket}"`;
const NO_BUCKET = ['NoSuchBucket', 'NotFound'];

/** The date `days` after `from`, as YYYY-MM-DD. */
export function retentionDate(from: Date, days: number): string {
  return new Date(from.getTime() + days * 86_400_000)
    .toISOString()
    .slice(0, 10);
}

/** Adds the retained tags to the bucket, keeping its other tags (its identity among them). */
export async function tagBucketRetained(
  s3: S3Client,
  options: { bucket: string; retainedUntil: string; retainedAt: string },
): Promise<void> {
  const { bucket } = options;
  const current = await findAws(
    's3:GetBucketTagging',
    target(bucket),
    ['NoSuchTagSet'],
    () => s3.send(new GetBucketTaggingCommand({ Bucket: bucket })),
  );
  const kept = (current?.TagSet ?? []).filter(
    t => t.Key !== RETAINED_TAG_KEY && t.Key !== RETAINED_UNTIL_TAG_KEY,
  ) as AwsTag[];
  await findAws('s3:PutBucketTagging', target(bucket), NO_BUCKET, () =>
    s3.send(
      new PutBucketTaggingCommand({
        Bucket: bucket,
        Tagging: {
          TagSet: [
            ...kept,
            { Key: RETAINED_TAG_KEY, Value: options.retainedAt },
            { Key: RETAINED_UNTIL_TAG_KEY, Value: options.retainedUntil },
          ],
        },
      }),
    ),
  );
}

/**
 * Deletes every object version and delete marker of the bucket, a page at a time, logging the
 * count; an absent bucket counts as empty. Stops on cancel between pages.
 */
export async function emptyBucket(
  s3: S3Client,
  options: { bucket: string; logger: LoggerService; signal?: AbortSignal },
): Promise<number> {
  const { bucket, logger } = options;
  let deleted = 0;
  for (;;) {
    if (options.signal?.aborted) {
      throw new Error(`Cancelled while emptying bucket ${bucket}`);
    }
    const page = await findAws(
      's3:ListBucketVersions',
      target(bucket),
      NO_BUCKET,
      () =>
        s3.send(
          new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 }),
        ),
    );
    const objects = [...(page?.Versions ?? []), ...(page?.DeleteMarkers ?? [])]
      .filter(v => v.Key)
      .map(v => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length === 0) {
      return deleted;
    }
    const result = await findAws(
      's3:DeleteObjectVersion',
      target(bucket),
      NO_BUCKET,
      () =>
        s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: objects, Quiet: true },
          }),
        ),
    );
    if (result?.Errors?.length) {
      const first = result.Errors[0];
      throw new Error(
        `s3:DeleteObjectVersion on ${target(bucket)} failed for ${
          result.Errors.length
        } object version(s), e.g. ${first.Key} (${first.Code}): ${
          first.Message
        }`,
      );
    }
    deleted += objects.length;
    logger.info(
      `Deleted ${deleted} object version(s) and delete marker(s) from bucket ${bucket}`,
    );
  }
}

/** Deletes the (empty) bucket; already gone counts as done. */
export async function deleteBucket(
  s3: S3Client,
  bucket: string,
): Promise<void> {
  await findAws('s3:DeleteBucket', target(bucket), NO_BUCKET, () =>
    s3.send(new DeleteBucketCommand({ Bucket: bucket })),
  );
}

/** The retained-until date of a bucket already tagged as retained, else undefined. Read-only. */
export async function bucketRetainedUntil(
  s3: S3Client,
  bucket: string,
): Promise<string | undefined> {
  const current = await findAws(
    's3:GetBucketTagging',
    target(bucket),
    ['NoSuchTagSet', ...NO_BUCKET],
    () => s3.send(new GetBucketTaggingCommand({ Bucket: bucket })),
  );
  const tags = current?.TagSet ?? [];
  return tags.some(t => t.Key === RETAINED_TAG_KEY)
    ? tags.find(t => t.Key === RETAINED_UNTIL_TAG_KEY)?.Value ?? 'unknown'
    : undefined;
}
