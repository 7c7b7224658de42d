import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CacheService } from '@backstage/backend-plugin-api';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  MlflowArtifactStoreDetails,
  MlflowComplianceFlag,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { awsIdentityMismatch, InstanceIdentity } from '../instanceIdentity';
import { AwsLocation } from '../rdsInstances';
import { SingleFlight } from '../SingleFlight';
import { readAwsLocation } from './awsLocation';
import {
  CheckOutcome,
  HealthCheck,
  messageOf,
  missingAnnotation,
  missingIdentity,
} from './types';

/** What rarely changes about a bucket; cached under `storeSettingsTtlSeconds`. */
export type BucketSettings = {
  versioning: 'Enabled' | 'Suspended' | 'Disabled';
  encryption: string | null;
  publicAccessBlocked: boolean;
  tlsOnlyPolicy: boolean;
};

/**
 * A bucket's tags and, once an instance it belongs to has asked, its settings: the tags are read
 * first, and a bucket that is not the asking instance's is not read further.
 */
type BucketFacts = {
  tags: Array<{ Key?: string; Value?: string }>;
  settings?: BucketSettings;
};

const NOT_CONFIGURED = new Set([
  'NoSuchPublicAccessBlockConfiguration',
  'ServerSideEncryptionConfigurationNotFoundError',
  'NoSuchBucketPolicy',
  'NoSuchTagSet',
]);

function errorName(error: unknown): string | undefined {
  return (error as { name?: unknown })?.name as string | undefined;
}

/** Reads a "not configured" answer as undefined; rethrows real failures. */
async function unlessNotConfigured<T>(
  call: Promise<T>,
): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (NOT_CONFIGURED.has(errorName(error) ?? '')) {
      return undefined;
    }
    throw error;
  }
}

type PolicyStatement = {
  Effect?: string;
  Condition?: Record<string, Record<string, unknown>>;
};

/** A Deny of every request made without TLS (`aws:SecureTransport` false). */
export function hasTlsOnlyStatement(policy: string | undefined): boolean {
  if (!policy) {
    return false;
  }
  let statements: PolicyStatement[];
  try {
    const parsed = JSON.parse(policy) as { Statement?: unknown };
    statements = (
      Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]
    ) as PolicyStatement[];
  } catch {
    return false;
  }
  return statements.some(statement => {
    const value = statement?.Condition?.Bool?.['aws:SecureTransport'];
    const values = Array.isArray(value) ? value : [value];
    return (
      statement.Effect === 'Deny' &&
      values.some(v => String(v).toLowerCase() === 'false')
    );
  });
}

function complianceOf(settings: BucketSettings): MlflowComplianceFlag[] {
  return [
    {
      id: 'versioning',
      label: 'Versioning enabled',
      ok: settings.versioning === 'Enabled',
      required: true,
    },
    {
      id: 'publicAccessBlocked',
      label: 'Public access blocked',
      ok: settings.publicAccessBlocked,
      required: true,
    },
    {
      id: 'encryption',
      label: 'Default encryption',
      ok: settings.encryption !== null,
      required: true,
    },
    {
      id: 'tlsOnlyPolicy',
      label: 'TLS-only bucket policy',
      ok: settings.tlsOnlyPolicy,
      required: true,
    },
  ];
}

export type ArtifactStoreCheckOptions = {
  s3ClientFor: (location: AwsLocation) => Promise<S3Client>;
  /** Holds bucket settings; its TTL is `storeSettingsTtlSeconds` (0: not cached). */
  cache: CacheService;
  storeSettingsTtlSeconds: number;
  timeoutMs: number;
};

/**
 * HeadBucket on every run (is the bucket there and reachable?) plus the bucket's settings, which
 * rarely change and come from the cache, so a fleet refresh costs one S3 call per bucket.
 */
export function createArtifactStoreCheck(
  options: ArtifactStoreCheckOptions,
): HealthCheck<'artifactStore'> {
  const { s3ClientFor, cache, storeSettingsTtlSeconds, timeoutMs } = options;
  const heads = new SingleFlight<void>();
  const factsFlights = new SingleFlight<BucketFacts>();

  const send = (signal: AbortSignal) => ({
    abortSignal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
  });

  async function readSettings(
    client: S3Client,
    bucket: string,
    signal: AbortSignal,
  ): Promise<BucketSettings> {
    const [versioning, publicAccess, encryption, policy] = await Promise.all([
      client.send(
        new GetBucketVersioningCommand({ Bucket: bucket }),
        send(signal),
      ),
      unlessNotConfigured(
        client.send(
          new GetPublicAccessBlockCommand({ Bucket: bucket }),
          send(signal),
        ),
      ),
      unlessNotConfigured(
        client.send(
          new GetBucketEncryptionCommand({ Bucket: bucket }),
          send(signal),
        ),
      ),
      unlessNotConfigured(
        client.send(
          new GetBucketPolicyCommand({ Bucket: bucket }),
          send(signal),
        ),
      ),
    ]);
    const block = publicAccess?.PublicAccessBlockConfiguration;
    const rule =
      encryption?.ServerSideEncryptionConfiguration?.Rules?.[0]
        ?.ApplyServerSideEncryptionByDefault;
    return {
      versioning:
        versioning.Status === 'Enabled' || versioning.Status === 'Suspended'
          ? versioning.Status
          : 'Disabled',
      encryption: rule?.SSEAlgorithm ?? null,
      publicAccessBlocked: Boolean(
        block?.BlockPublicAcls &&
          block.BlockPublicPolicy &&
          block.IgnorePublicAcls &&
          block.RestrictPublicBuckets,
      ),
      tlsOnlyPolicy: hasTlsOnlyStatement(policy?.Policy),
    };
  }

  /** The bucket's facts from the cache, else read; settings only for the instance that owns it. */
  function factsOf(
    client: S3Client,
    location: AwsLocation,
    bucket: string,
    identity: InstanceIdentity,
    signal: AbortSignal,
  ): Promise<BucketFacts> {
    const key = `bucket-settings:${location.accountId ?? ''}:${
      location.region
    }:${bucket}`;
    return factsFlights.run(key, async () => {
      let facts =
        storeSettingsTtlSeconds > 0
          ? await cache.get<BucketFacts>(key)
          : undefined;
      if (!facts) {
        const tagging = await unlessNotConfigured(
          client.send(
            new GetBucketTaggingCommand({ Bucket: bucket }),
            send(signal),
          ),
        );
        facts = { tags: tagging?.TagSet ?? [] };
      } else if (facts.settings) {
        return facts;
      }
      if (!awsIdentityMismatch(facts.tags, identity)) {
        facts = {
          tags: facts.tags,
          settings: await readSettings(client, bucket, signal),
        };
      }
      if (storeSettingsTtlSeconds > 0) {
        await cache.set(key, facts, { ttl: storeSettingsTtlSeconds * 1000 });
      }
      return facts;
    });
  }

  return {
    id: 'artifactStore',
    async run({
      info,
      identity,
      signal,
      log,
    }): Promise<CheckOutcome<'artifactStore'>> {
      if (!info.artifactRoot) {
        return missingAnnotation(ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT);
      }
      if (!info.awsRegion) {
        return missingAnnotation(ANNOTATION_MLFLOW_AWS_REGION);
      }
      if (!info.bucket) {
        return {
          status: 'unknown',
          summary: `Not checked: ${ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT} is not an s3:// URI.`,
        };
      }
      if (!identity) {
        return missingIdentity(ANNOTATION_KUBERNETES_ID);
      }
      let bucket: string;
      let location: AwsLocation;
      try {
        bucket = validateName(
          nameRules.s3BucketName,
          ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
          info.bucket,
        );
        location = readAwsLocation(info.awsRegion, info.awsAccountId);
      } catch (error) {
        return {
          status: 'unknown',
          summary: `Not checked: ${messageOf(error)}`,
        };
      }
      const { region } = location;
      const client = await s3ClientFor(location);
      const details: MlflowArtifactStoreDetails = {
        bucket,
        prefix: info.artifactPrefix ?? '',
        region,
        compliance: [],
      };

      const [head, facts] = await Promise.allSettled([
        heads.run(
          `${location.accountId ?? ''}:${region}:${bucket}`,
          async () => {
            await client.send(
              new HeadBucketCommand({ Bucket: bucket }),
              send(signal),
            );
          },
        ),
        factsOf(client, location, bucket, identity, signal),
      ]);
      if (facts.status === 'fulfilled') {
        const foreign = awsIdentityMismatch(facts.value.tags, identity);
        if (foreign) {
          return {
            status: 'error',
            summary: `Bucket ${bucket} is not this instance's (${foreign}); it is not described.`,
            details,
          };
        }
      }
      const settings = facts.status === 'fulfilled' && facts.value.settings;
      if (settings) {
        details.versioning = settings.versioning;
        details.encryption = settings.encryption ?? undefined;
        details.publicAccessBlocked = settings.publicAccessBlocked;
        details.tlsOnlyPolicy = settings.tlsOnlyPolicy;
        details.compliance = complianceOf(settings);
      }
      if (head.status === 'rejected') {
        const status = (
          head.reason as { $metadata?: { httpStatusCode?: number } }
        )?.$metadata?.httpStatusCode;
        let why = 'is not reachable; the AWS error is in the backend log';
        if (status === 404 || errorName(head.reason) === 'NotFound') {
          why = 'does not exist';
        } else if (status === 403) {
          why = 'is not accessible (access denied)';
        } else {
          log(`HeadBucket ${bucket}: ${messageOf(head.reason)}`);
        }
        return {
          status: 'error',
          summary: `Bucket ${bucket} ${why}.`,
          details,
        };
      }
      if (!settings) {
        if (facts.status === 'rejected') {
          log(`bucket settings of ${bucket}: ${messageOf(facts.reason)}`);
        }
        return {
          status: 'warning',
          summary: `Bucket ${bucket} is reachable, but its settings could not be read; the AWS error is in the backend log.`,
          details,
        };
      }
      const off = details.compliance
        .filter(f => f.required && !f.ok)
        .map(f => f.label);
      if (off.length > 0) {
        return {
          status: 'warning',
          summary: `Bucket ${bucket} is reachable; compliance off: ${off.join(
            ', ',
          )}${
            settings.versioning === 'Suspended' ? ' (versioning suspended)' : ''
          }.`,
          details,
        };
      }
      return {
        status: 'ok',
        summary: `Bucket ${bucket} is reachable, versioned, private and encrypted.`,
        details,
      };
    },
  };
}
