import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeDBInstancesCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { defaultResourceNames } from './instanceResources';

/** Kinds an instance's namespace holds (what the database and deploy steps write, and more). */
const NAMESPACED_KINDS: Array<[apiVersion: string, kind: string]> = [
  ['v1', 'Secret'],
  ['v1', 'ConfigMap'],
  ['v1', 'Service'],
  ['v1', 'ServiceAccount'],
  ['apps/v1', 'Deployment'],
  ['batch/v1', 'Job'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
];

/** Kinds whose status controllers keep writing (a pod restarting changes a Deployment's status). */
const STATUS_WRITTEN = new Set(['Deployment', 'Job', 'PodDisruptionBudget']);

/**
 * What a writer of the object decides: its resourceVersion, or for kinds whose status controllers
 * write, everything but that status (generation, labels, annotations, spec), so a pod restart under
 * load does not count as a change while any write through the API does.
 */
function writtenState(object: KubernetesObject): unknown {
  if (!STATUS_WRITTEN.has(object.kind ?? '')) {
    return object.metadata?.resourceVersion;
  }
  const { generation, labels, annotations } = object.metadata ?? {};
  return {
    generation,
    labels,
    annotations,
    spec: (object as { spec?: unknown }).spec,
  };
}

async function settle<T>(call: () => Promise<T>): Promise<T | string> {
  try {
    return await call();
  } catch (error) {
    // An absent resource is part of the state: compared like any answer.
    return `error: ${(error as Error).name}`;
  }
}

/** Drops the SDK's per-request metadata, which differs on every call. */
function answer<T extends { $metadata?: unknown }>(
  result: T | string,
): Omit<T, '$metadata'> | string {
  if (typeof result === 'string') {
    return result;
  }
  const { $metadata: _ignored, ...rest } = result;
  return rest;
}

/**
 * Everything of one instance the stack's AWS endpoint and apiserver hold, as they answer it: the
 * RDS instance and its tags, its master secret and the instance's other secrets, the bucket's
 * settings, tags and policy, the IAM role with its tags and inline policies, and every object of
 * its namespace. Two snapshots are equal only when nothing of the instance was written in between.
 */
export async function instanceSnapshot(
  names: ReturnType<typeof defaultResourceNames>,
): Promise<Record<string, unknown>> {
  const env = readStackEnv();
  const region = env.awsRegion;
  const rds = new RDSClient({ region });
  const s3 = new S3Client({ region, forcePathStyle: true });
  const iam = new IAMClient({ region });
  const secrets = new SecretsManagerClient({ region });
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfig);
  const kube = KubernetesObjectApi.makeApiClient(kc);

  const described = await settle(() =>
    rds.send(
      new DescribeDBInstancesCommand({
        DBInstanceIdentifier: names.rdsInstanceId,
      }),
    ),
  );
  const instance =
    typeof described === 'string' ? undefined : described.DBInstances?.[0];
  const masterSecretArn = instance?.MasterUserSecret?.SecretArn;

  const bucket = { Bucket: names.bucket };
  const role = { RoleName: names.roleName };
  const policyNames = await settle(() =>
    iam.send(new ListRolePoliciesCommand(role)),
  );
  const rolePolicies =
    typeof policyNames === 'string'
      ? policyNames
      : await Promise.all(
          (policyNames.PolicyNames ?? []).map(async PolicyName =>
            answer(
              await settle(() =>
                iam.send(new GetRolePolicyCommand({ ...role, PolicyName })),
              ),
            ),
          ),
        );

  const kubernetes: Record<string, unknown> = {};
  const namespace = await settle(() =>
    kube.read({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: names.namespace },
    }),
  );
  kubernetes[`Namespace/${names.namespace}`] =
    typeof namespace === 'string'
      ? namespace
      : namespace.metadata?.resourceVersion;
  if (typeof namespace !== 'string') {
    for (const [apiVersion, kind] of NAMESPACED_KINDS) {
      const list = await kube.list(apiVersion, kind, names.namespace);
      for (const item of list.items) {
        kubernetes[`${kind}/${item.metadata?.name}`] = writtenState({
          ...item,
          kind,
        });
      }
    }
  }

  // The endpoint computes LatestRestorableTime from its clock on every describe: not a write.
  const { LatestRestorableTime: _clock, ...rdsInstance } = instance ?? {};
  return {
    rdsInstance: instance ? rdsInstance : described,
    rdsTags: instance?.DBInstanceArn
      ? answer(
          await settle(() =>
            rds.send(
              new ListTagsForResourceCommand({
                ResourceName: instance.DBInstanceArn,
              }),
            ),
          ),
        )
      : 'no instance',
    masterSecret: masterSecretArn
      ? answer(
          await settle(() =>
            secrets.send(
              new DescribeSecretCommand({ SecretId: masterSecretArn }),
            ),
          ),
        )
      : 'no master secret',
    instanceSecrets: answer(
      await settle(() =>
        secrets.send(
          new ListSecretsCommand({
            Filters: [{ Key: 'tag-value', Values: [names.instance] }],
          }),
        ),
      ),
    ),
    bucketTagging: answer(
      await settle(() => s3.send(new GetBucketTaggingCommand(bucket))),
    ),
    bucketPolicy: answer(
      await settle(() => s3.send(new GetBucketPolicyCommand(bucket))),
    ),
    bucketVersioning: answer(
      await settle(() => s3.send(new GetBucketVersioningCommand(bucket))),
    ),
    bucketEncryption: answer(
      await settle(() => s3.send(new GetBucketEncryptionCommand(bucket))),
    ),
    bucketPublicAccessBlock: answer(
      await settle(() => s3.send(new GetPublicAccessBlockCommand(bucket))),
    ),
    role: answer(await settle(() => iam.send(new GetRoleCommand(role)))),
    roleTags: answer(
      await settle(() => iam.send(new ListRoleTagsCommand(role))),
    ),
    rolePolicies,
    kubernetes,
  };
}
