import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { JsonValue } from '@backstage/types';
import type { AwsClientConfig } from '@stateful-mlflow/plugin-mlflow-node';
import { MlflowKubernetesApi } from '../kubernetes/kubernetesApi';

/*
 * What the test of the provisioning actions against the local stack expects of the resources the
 * actions made, read back from the stack.
 */

/**
 * Expects that dry-runs for the instance `dryName` made nothing: no bucket `<bucket>-dry`, no RDS
 * instance, no IAM role, no namespace.
 */
export async function expectNothingProvisioned(
  config: AwsClientConfig,
  kube: MlflowKubernetesApi,
  dryName: string,
  bucket: string,
) {
  const s3 = new S3Client(config);
  await expect(
    s3.send(new GetBucketVersioningCommand({ Bucket: `${bucket}-dry` })),
  ).rejects.toThrow();
  await expect(
    new RDSClient(config).send(
      new DescribeDBInstancesCommand({
        DBInstanceIdentifier: `mlflow-${dryName}`,
      }),
    ),
  ).rejects.toThrow(/not found/i);
  await expect(
    new IAMClient(config).send(
      new GetRoleCommand({ RoleName: `mlflow-${dryName}` }),
    ),
  ).rejects.toThrow();
  expect(
    await kube.read({
      apiVersion: 'v1',
      kind: 'Namespace',
      name: `mlflow-${dryName}`,
    }),
  ).toBeUndefined();
}

/**
 * Expects the bucket versioned, closed to the public, encrypted by default, TLS-only, and keeping
 * noncurrent versions for 30 days.
 */
export async function expectHardenedBucket(s3: S3Client, bucket: string) {
  expect(
    (await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status,
  ).toBe('Enabled');
  expect(
    (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))
      .PublicAccessBlockConfiguration,
  ).toEqual({
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  });
  const encryption = await s3.send(
    new GetBucketEncryptionCommand({ Bucket: bucket }),
  );
  expect(
    encryption.ServerSideEncryptionConfiguration!.Rules![0]
      .ApplyServerSideEncryptionByDefault!.SSEAlgorithm,
  ).toBe('AES256');
  const policy = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
  expect(policy.Policy).toContain('aws:SecureTransport');
  const lifecycle = await s3.send(
    new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }),
  );
  expect(lifecycle.Rules![0].NoncurrentVersionExpiration!.NoncurrentDays).toBe(
    30,
  );
}

/**
 * Expects the RDS instance of the MLflow instance `name` encrypted, private, on gp3 with 7 days of
 * backups and tagged for it, listening on the `port` the action put out.
 */
export async function expectHardenedInstance(
  rds: RDSClient,
  name: string,
  port: JsonValue,
) {
  const instance = (
    await rds.send(
      new DescribeDBInstancesCommand({
        DBInstanceIdentifier: `mlflow-${name}`,
      }),
    )
  ).DBInstances![0];
  // The port the instance listens on (5432 on RDS; the stack gives each instance its own).
  expect(port).toBe(instance.Endpoint!.Port);
  expect(instance.StorageEncrypted).toBe(true);
  expect(instance.PubliclyAccessible).not.toBe(true);
  expect(instance.StorageType).toBe('gp3');
  expect(instance.BackupRetentionPeriod).toBe(7);
  expect(instance.TagList).toContainEqual({
    Key: 'stateful-mlflow/instance',
    Value: name,
  });
}

/** Expects the security group to let in PostgreSQL (5432) from `clientGroupId` and nothing else. */
export async function expectPostgresOnlyFrom(
  ec2: EC2Client,
  groupId: string,
  clientGroupId: string | undefined,
) {
  const group = (
    await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))
  ).SecurityGroups![0];
  expect(group.IpPermissions).toEqual([
    expect.objectContaining({
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      UserIdGroupPairs: [expect.objectContaining({ GroupId: clientGroupId })],
    }),
  ]);
}

/**
 * Expects sign-in on at `trackingUrl`: the admin can create the experiment `experiment` and read
 * it, and a request without a login gets 401.
 */
export async function expectSignInRequired(
  trackingUrl: string,
  admin: { username: string; password: string },
  experiment: string,
) {
  const asAdmin = {
    authorization: `Basic ${Buffer.from(
      `${admin.username}:${admin.password}`,
    ).toString('base64')}`,
  };
  const created = await fetch(
    `${trackingUrl}/api/2.0/mlflow/experiments/create`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asAdmin },
      body: JSON.stringify({ name: experiment }),
    },
  );
  expect(created.status).toBe(200);
  const byName = `${trackingUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${experiment}`;
  expect((await fetch(byName, { headers: asAdmin })).status).toBe(200);
  expect((await fetch(byName)).status).toBe(401);
}
