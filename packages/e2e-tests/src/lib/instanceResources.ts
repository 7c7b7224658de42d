import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stackSuperuser } from './instanceDatabase';
import { readStackEnv } from '@internal/stack-env';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';

/** The names the template derives from an instance name when the form leaves them empty. */
export function defaultResourceNames(name: string) {
  const names = resolveInstanceNames({ name });
  return {
    instance: name,
    rdsInstanceId: names.rdsInstanceId,
    bucket: names.bucket,
    roleName: names.roleName,
    namespace: names.namespace,
  };
}

/** What of one instance exists on the local stack: AWS resources on moto, objects on the apiserver. */
export type InstanceResources = {
  rdsInstances: string[];
  buckets: string[];
  roles: string[];
  namespaces: string[];
  deployments: string[];
};

function isNotFound(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: number;
    $metadata?: { httpStatusCode?: number };
  };
  return (
    e.name === 'NotFound' ||
    e.name === 'NoSuchEntity' ||
    e.name === 'NoSuchEntityException' ||
    e.name === 'DBInstanceNotFound' ||
    e.name === 'DBInstanceNotFoundFault' ||
    e.name === 'NoSuchBucket' ||
    e.$metadata?.httpStatusCode === 404 ||
    e.code === 404
  );
}

async function exists(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    if (isNotFound(error)) {
      return false;
    }
    throw error;
  }
}

/**
 * Looks up, by name, every resource the template would create for an instance. Other engineers'
 * instances live on the same stack, so this checks the instance's own names rather than the
 * whole inventory.
 */
export async function instanceResources(
  names: ReturnType<typeof defaultResourceNames>,
): Promise<InstanceResources> {
  const env = readStackEnv();
  const region = env.awsRegion;
  const rds = new RDSClient({ region });
  const s3 = new S3Client({ region, forcePathStyle: true });
  const iam = new IAMClient({ region });
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);

  const [rdsInstance, bucket, role, namespace] = await Promise.all([
    exists(() =>
      rds.send(
        new DescribeDBInstancesCommand({
          DBInstanceIdentifier: names.rdsInstanceId,
        }),
      ),
    ),
    exists(() => s3.send(new HeadBucketCommand({ Bucket: names.bucket }))),
    exists(() => iam.send(new GetRoleCommand({ RoleName: names.roleName }))),
    exists(() => core.readNamespace({ name: names.namespace })),
  ]);
  const deployments = namespace
    ? (
        await apps.listNamespacedDeployment({ namespace: names.namespace })
      ).items.map(d => `${names.namespace}/${d.metadata?.name}`)
    : [];
  return {
    rdsInstances: rdsInstance ? [names.rdsInstanceId] : [],
    buckets: bucket ? [names.bucket] : [],
    roles: role ? [names.roleName] : [],
    namespaces: namespace ? [names.namespace] : [],
    deployments,
  };
}

/** Every RDS instance, bucket and IAM role on the stack, for counting duplicates. */
export async function awsInventory(): Promise<{
  rdsInstances: string[];
  buckets: string[];
  roles: string[];
}> {
  const { awsRegion: region } = readStackEnv();
  const [instances, buckets, roles] = await Promise.all([
    new RDSClient({ region }).send(new DescribeDBInstancesCommand({})),
    new S3Client({ region, forcePathStyle: true }).send(
      new ListBucketsCommand({}),
    ),
    new IAMClient({ region }).send(new ListRolesCommand({ MaxItems: 1000 })),
  ]);
  return {
    rdsInstances: (instances.DBInstances ?? []).map(
      i => i.DBInstanceIdentifier ?? '',
    ),
    buckets: (buckets.Buckets ?? []).map(b => b.Name ?? ''),
    roles: (roles.Roles ?? []).map(r => r.RoleName ?? ''),
  };
}

const quoteIdentifier = (identifier: string) =>
  `"${identifier.replace(/"/g, '""')}"`;

/**
 * Drops the databases and roles that the database action created for `instance` on the stack's
 * PostgreSQL (all local RDS instances share it); it marks them with a comment naming the instance.
 */
async function dropInstanceDatabases(instance: string): Promise<void> {
  const client = await stackSuperuser();
  try {
    const marker = `managed-by=backstage-stateful-mlflow instance=${instance}`;
    const databases = await client.query<{ name: string }>(
      `SELECT datname AS name FROM pg_database WHERE shobj_description(oid, 'pg_database') = $1`,
      [marker],
    );
    for (const { name } of databases.rows) {
      await client.query(
        `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`,
      );
    }
    const roles = await client.query<{ name: string }>(
      `SELECT rolname AS name FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = $1`,
      [marker],
    );
    for (const { name } of roles.rows) {
      await client.query(`DROP ROLE IF EXISTS ${quoteIdentifier(name)}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Removes what a template run created for an instance (best effort, for tidy test runs): the
 * Kubernetes namespace (which stops the MLflow pods), the RDS instance, its database and role on
 * the stack's PostgreSQL, the bucket with every object version, and the IAM role with its inline
 * policies.
 */
export async function deleteInstanceResources(
  names: ReturnType<typeof defaultResourceNames>,
): Promise<void> {
  const env = readStackEnv();
  const region = env.awsRegion;
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfig);
  const ignoreNotFound = (error: unknown) => {
    if (!isNotFound(error)) {
      throw error;
    }
  };
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: names.namespace })
    .catch(ignoreNotFound);
  await new RDSClient({ region })
    .send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: names.rdsInstanceId,
        SkipFinalSnapshot: true,
      }),
    )
    .catch(ignoreNotFound);

  await dropInstanceDatabases(names.instance);

  const s3 = new S3Client({ region, forcePathStyle: true });
  try {
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: names.bucket }),
    );
    const objects = [
      ...(versions.Versions ?? []),
      ...(versions.DeleteMarkers ?? []),
    ].map(v => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length > 0) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: names.bucket,
          Delete: { Objects: objects },
        }),
      );
    }
    await s3.send(new DeleteBucketCommand({ Bucket: names.bucket }));
  } catch (error) {
    ignoreNotFound(error);
  }

  const iam = new IAMClient({ region });
  try {
    const policies = await iam.send(
      new ListRolePoliciesCommand({ RoleName: names.roleName }),
    );
    for (const policyName of policies.PolicyNames ?? []) {
      await iam.send(
        new DeleteRolePolicyCommand({
          RoleName: names.roleName,
          PolicyName: policyName,
        }),
      );
    }
    await iam.send(new DeleteRoleCommand({ RoleName: names.roleName }));
  } catch (error) {
    ignoreNotFound(error);
  }
}

/**
 * Deletes the manual snapshots of RDS instance `rdsInstanceId` (best effort): final and pre-upgrade
 * snapshots are dumps of the instance's data on the stack's disk.
 */
export async function deleteManualSnapshots(
  rdsInstanceId: string,
): Promise<void> {
  const rds = new RDSClient({ region: readStackEnv().awsRegion });
  const { DBSnapshots } = await rds.send(
    new DescribeDBSnapshotsCommand({
      DBInstanceIdentifier: rdsInstanceId,
      SnapshotType: 'manual',
    }),
  );
  for (const snapshot of DBSnapshots ?? []) {
    await rds
      .send(
        new DeleteDBSnapshotCommand({
          DBSnapshotIdentifier: snapshot.DBSnapshotIdentifier,
        }),
      )
      .catch(() => undefined);
  }
}
