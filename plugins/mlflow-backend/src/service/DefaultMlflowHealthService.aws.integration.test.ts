import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  RDSClient,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import {
  BucketLocationConstraint,
  CreateBucketCommand,
  DeleteBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import {
  readStackAppConfig,
  readStackEnv,
  StackEnv,
} from '@internal/stack-env';
import { identityTags } from '../testUtils/healthFixtures';
import {
  check,
  checkUntil,
  entity,
  run,
  stackHealthService,
} from './__testUtils__/stackHealthFixtures';

/*
 * Against the local real stack (stack/README.md): RDS instances and S3 buckets on the AWS endpoint
 * (moto), checked through the real service with the stack's Backstage config overlay.
 */

describe('DefaultMlflowHealthService against the local stack', () => {
  let env: StackEnv;
  let overlay: JsonObject;

  beforeAll(() => {
    env = readStackEnv();
    overlay = readStackAppConfig(env).data;
  });

  function serviceFor(entities: Entity[]) {
    return stackHealthService(overlay, entities);
  }

  it('sees an RDS instance available, then stopped', async () => {
    const instanceId = `it-health-${run}`;
    const rds = new RDSClient({ region: env.awsRegion });
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        Engine: 'postgres',
        EngineVersion: '16.4',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'mlflowadmin',
        ManageMasterUserPassword: true,
        StorageEncrypted: true,
        PubliclyAccessible: false,
        BackupRetentionPeriod: 7,
        Tags: identityTags('database'),
      }),
    );
    try {
      const service = serviceFor([
        entity('database', {
          'mlflow.org/aws-region': env.awsRegion,
          'mlflow.org/rds-instance-id': instanceId,
        }),
      ]);
      const available = await checkUntil(
        service,
        'database',
        'database',
        'the instance to be available',
        result =>
          result.status === 'ok' && result.details?.status === 'available',
      );
      expect(available).toMatchObject({
        status: 'ok',
        details: {
          instanceId,
          engine: 'postgres',
          storageEncrypted: true,
          publiclyAccessible: false,
        },
      });

      await rds.send(
        new StopDBInstanceCommand({ DBInstanceIdentifier: instanceId }),
      );
      const stopped = await checkUntil(
        service,
        'database',
        'database',
        'the instance to stop',
        result =>
          result.status === 'error' &&
          result.summary ===
            `RDS instance ${instanceId} is stopped, not available.`,
      );
      expect(stopped).toMatchObject({
        status: 'error',
        summary: `RDS instance ${instanceId} is stopped, not available.`,
      });
    } finally {
      await rds
        .send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: instanceId,
            SkipFinalSnapshot: true,
          }),
        )
        .catch(() => {});
    }
  }, 90_000);

  it("refuses an RDS instance and a bucket that are not the instance's, describing neither", async () => {
    const instanceId = `it-health-${run}-foreign`;
    const bucket = `it-health-${run}-foreign`;
    const rds = new RDSClient({ region: env.awsRegion });
    const s3 = new S3Client({ region: env.awsRegion, forcePathStyle: true });
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        Engine: 'postgres',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'mlflowadmin',
        ManageMasterUserPassword: true,
        Tags: identityTags('foreign', 'group:default/intruders'),
      }),
    );
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: {
          LocationConstraint: env.awsRegion as BucketLocationConstraint,
        },
      }),
    );
    try {
      const service = serviceFor([
        entity('foreign', {
          'mlflow.org/aws-region': env.awsRegion,
          'mlflow.org/rds-instance-id': instanceId,
          'mlflow.org/s3-artifact-root': `s3://${bucket}/mlflow`,
        }),
      ]);
      expect(await check(service, 'foreign', 'database')).toEqual({
        id: 'database',
        status: 'error',
        summary: `RDS instance ${instanceId} is not this instance's (its owner tag names another owner); it is not described.`,
        details: { instanceId, region: env.awsRegion, compliance: [] },
        latencyMs: expect.any(Number),
      });
      expect(await check(service, 'foreign', 'artifactStore')).toEqual({
        id: 'artifactStore',
        status: 'error',
        summary: `Bucket ${bucket} is not this instance's (it has no stateful-mlflow/instance tag); it is not described.`,
        details: {
          bucket,
          prefix: 'mlflow',
          region: env.awsRegion,
          compliance: [],
        },
        latencyMs: expect.any(Number),
      });
    } finally {
      await rds
        .send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: instanceId,
            SkipFinalSnapshot: true,
          }),
        )
        .catch(() => {});
      await s3
        .send(new DeleteBucketCommand({ Bucket: bucket }))
        .catch(() => {});
    }
  }, 90_000);

  it('sees bucket versioning enabled, then suspended', async () => {
    const bucket = `it-health-${run}-artifacts`;
    const s3 = new S3Client({ region: env.awsRegion, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: {
          LocationConstraint: env.awsRegion as BucketLocationConstraint,
        },
      }),
    );
    try {
      await s3.send(
        new PutBucketTaggingCommand({
          Bucket: bucket,
          Tagging: { TagSet: identityTags('artifacts') },
        }),
      );
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
        }),
      );
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
              },
            ],
          },
        }),
      );
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket: bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: '*',
                Action: 's3:*',
                Resource: [
                  `arn:aws:s3:::${bucket}`,
                  `arn:aws:s3:::${bucket}/*`,
                ],
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          }),
        }),
      );
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: 'Enabled' },
        }),
      );
      const service = serviceFor([
        entity('artifacts', {
          'mlflow.org/aws-region': env.awsRegion,
          'mlflow.org/s3-artifact-root': `s3://${bucket}/mlflow`,
        }),
      ]);
      expect(await check(service, 'artifacts', 'artifactStore')).toMatchObject({
        status: 'ok',
        details: {
          bucket,
          versioning: 'Enabled',
          encryption: 'AES256',
          publicAccessBlocked: true,
          tlsOnlyPolicy: true,
        },
      });

      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: 'Suspended' },
        }),
      );
      expect(await check(service, 'artifacts', 'artifactStore')).toMatchObject({
        status: 'warning',
        details: { versioning: 'Suspended' },
      });
    } finally {
      await s3
        .send(new DeleteBucketCommand({ Bucket: bucket }))
        .catch(() => {});
    }
  }, 60_000);
});
