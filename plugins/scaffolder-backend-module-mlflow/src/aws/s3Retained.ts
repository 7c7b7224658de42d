import {
  GetBucketTaggingCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { InputError } from '@backstage/errors';
import {
  describeReceived,
  OWNERSHIP_TAG_KEY,
} from '@stateful-mlflow/plugin-mlflow-common';
import { findAws } from './awsErrors';
import { RETAINED_TAG_KEY, RETAINED_UNTIL_TAG_KEY } from './s3Retire';
import { BucketState } from './s3';
import { OWNER_TAG_KEY } from './tags';

/** A bucket a decommission kept, as its tags record it. */
export type RetainedBucket = {
  bucket: string;
  /** The MLflow instance it belonged to (its instance tag). */
  sourceInstance: string;
  /** The owner that instance recorded. */
  owner?: string;
  /** Still tagged as retained; false once an instance of this name adopted it. */
  retained: boolean;
  retainedUntil?: string;
};

const NO_BUCKET = ['NoSuchBucket', 'NotFound'];

/**
 * Reads the bucket named to be adopted by the instance `name` (restored from a snapshot of
 * `fromInstance`, when known) and refuses, as an InputError naming `retainedBucket`, a bucket that
 * is absent, not an MLflow instance's, still in use by a live instance (not tagged as retained) or
 * retained by an instance other than `fromInstance`. A bucket this instance already adopted (a
 * rerun) is accepted. Read-only; whether its owner allows the initiator is the caller's check.
 */
export async function readRetainedBucket(
  s3: S3Client,
  o: { bucket: string; account: string; name: string; fromInstance?: string },
): Promise<RetainedBucket> {
  const { bucket } = o;
  const refuse = (why: string): never => {
    throw new InputError(
      `Invalid retainedBucket: received ${describeReceived(
        bucket,
      )}, but ${why}. Accepted: a bucket a decommission retained (tagged ${RETAINED_TAG_KEY}) of ${
        o.fromInstance
          ? `MLflow instance "${o.fromInstance}" (the snapshot's)`
          : 'an MLflow instance'
      }, whose recorded owner allows you.`,
    );
  };
  const head = await findAws(
    's3:ListBucket',
    `bucket "${bucket}"`,
    NO_BUCKET,
    () =>
      s3.send(
        new HeadBucketCommand({
          Bucket: bucket,
          ExpectedBucketOwner: o.account,
        }),
      ),
  );
  if (!head) {
    return refuse('there is no such bucket in this account');
  }
  const tagging = await findAws(
    's3:GetBucketTagging',
    `bucket "${bucket}"`,
    ['NoSuchTagSet'],
    () => s3.send(new GetBucketTaggingCommand({ Bucket: bucket })),
  );
  const tag = (key: string) => tagging?.TagSet?.find(t => t.Key === key)?.Value;
  const sourceInstance = tag(OWNERSHIP_TAG_KEY);
  if (!sourceInstance) {
    return refuse(
      `it does not carry the tag ${OWNERSHIP_TAG_KEY} of an MLflow instance`,
    );
  }
  const retained = tag(RETAINED_TAG_KEY) !== undefined;
  const adoptedAlready = sourceInstance === o.name && !retained;
  if (!retained && !adoptedAlready) {
    return refuse(
      `it is the bucket of MLflow instance "${sourceInstance}", which is not retained (no ${RETAINED_TAG_KEY} tag): a live instance's bucket is never adopted`,
    );
  }
  if (
    retained &&
    o.fromInstance &&
    sourceInstance !== o.fromInstance &&
    sourceInstance !== o.name
  ) {
    return refuse(
      `it was retained from MLflow instance "${sourceInstance}", while the database is restored from a snapshot of "${o.fromInstance}"`,
    );
  }
  return {
    bucket,
    sourceInstance,
    owner: tag(OWNER_TAG_KEY),
    retained,
    retainedUntil: tag(RETAINED_UNTIL_TAG_KEY),
  };
}

/** The plan of adopting a retained bucket, for the log; undefined when nothing is adopted. */
export function describeAdoption(
  state: BucketState,
  retained: RetainedBucket | undefined,
): string | undefined {
  if (retained?.retained) {
    return `it was retained from MLflow instance ${retained.sourceInstance} until ${retained.retainedUntil}; adopt it with its artifacts as this instance's (its tags rewritten, the retained tags removed)`;
  }
  if (state.kind === 'ours' && state.retainedUntil) {
    return `it is this instance's, retained by a decommission until ${state.retainedUntil}; adopt it with its artifacts (the retained tags removed)`;
  }
  return undefined;
}
