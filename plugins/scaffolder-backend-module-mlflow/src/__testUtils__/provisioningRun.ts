import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { DeleteDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { ConfigReader } from '@backstage/config';
import { TemplateAction } from '@backstage/plugin-scaffolder-node';
import { JsonObject } from '@backstage/types';
import {
  KubernetesObjectApi,
  V1Deployment,
  V1Secret,
} from '@kubernetes/client-node';
import {
  AwsClientConfigFactory,
  MlflowClusters,
} from '@stateful-mlflow/plugin-mlflow-node';
import { Client } from 'pg';
import {
  kubernetesApiFromClusters,
  MlflowKubernetesApi,
} from '../kubernetes/kubernetesApi';
import { createCheckpointingContext } from './createCheckpointingContext';
import { loadStack, uniqueSuffix } from './stack';

/*
 * What the test of the provisioning actions against the local stack uses to set up, look at and
 * clean up what the actions make; the test itself holds the checks.
 */

/** The names of one run: unique, so that runs never collide with each other or colleagues'. */
export function runNames(suffix = uniqueSuffix()) {
  return {
    suffix,
    name: `it-${suffix}`,
    bucket: `mlflow-it-${suffix}`,
    databaseName: `mlflow_it_${suffix}`,
    username: `mlflow_it_${suffix}`,
    namespace: `mlflow-it-${suffix}`,
  };
}

/** The stack's AWS endpoint and clusters, as the module builds them, and the local cluster. */
export function connectToStack() {
  const stack = loadStack();
  const aws = AwsClientConfigFactory.fromConfig(new ConfigReader({}));
  const clusters = MlflowClusters.fromConfig(stack.config);
  const kube = kubernetesApiFromClusters(clusters)('local');
  return { stack, aws, clusters, kube };
}

/**
 * Stops the tracking server processes (by deleting the namespace) and the instance's own
 * PostgreSQL (by deleting the RDS instance); the rest is cheap to leave.
 */
export async function deleteServersAndInstance(options: {
  aws?: AwsClientConfigFactory;
  clusters?: MlflowClusters;
  namespace: string;
  region: string;
  instanceId?: string;
}) {
  const { aws, clusters, namespace, region, instanceId } = options;
  if (clusters) {
    await KubernetesObjectApi.makeApiClient(clusters.kubeConfig('local'))
      .delete({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      })
      .catch(() => undefined);
  }
  if (aws && instanceId) {
    await new RDSClient(await aws.forRegion({ region }))
      .send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: instanceId,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      )
      .catch(() => undefined);
  }
}

/** Runs an action twice on fresh contexts (a second task run): both must succeed. */
export async function runTwice<
  TInput extends JsonObject,
  TOutput extends JsonObject,
>(action: TemplateAction<TInput, TOutput, 'v2'>, input: JsonObject) {
  const first = createCheckpointingContext(action, { input });
  await action.handler(first.ctx);
  const second = createCheckpointingContext(action, { input });
  await action.handler(second.ctx);
  expect(second.outputs).toEqual(first.outputs);
  return { first, second };
}

/** Runs actions as dry-runs, adding everything each showed to `visible`; answers their outputs. */
export function dryRunner(visible: string[]) {
  return async <TInput extends JsonObject, TOutput extends JsonObject>(
    action: TemplateAction<TInput, TOutput, 'v2'>,
    input: JsonObject,
  ) => {
    const run = createCheckpointingContext(action, { input, isDryRun: true });
    await action.handler(run.ctx);
    visible.push(run.everythingVisible());
    return run.outputs;
  };
}

/** A security group in the default VPC that stands in for the cluster nodes. */
export async function createClientSecurityGroup(
  ec2: EC2Client,
  suffix: string,
) {
  const vpcs = await ec2.send(
    new DescribeVpcsCommand({
      Filters: [{ Name: 'is-default', Values: ['true'] }],
    }),
  );
  return ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `cluster-${suffix}`,
      Description: 'stands in for the cluster nodes',
      VpcId: vpcs.Vpcs![0].VpcId,
    }),
  );
}

/** Lets `clientGroupId` reach PostgreSQL in `groupId`; a rule that exists already is no error. */
export async function allowPostgresFrom(
  ec2: EC2Client,
  groupId: string,
  clientGroupId: string | undefined,
) {
  await ec2
    .send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 5432,
            ToPort: 5432,
            UserIdGroupPairs: [{ GroupId: clientGroupId }],
          },
        ],
      }),
    )
    .catch(() => undefined);
}

/** The role's trust policy and its policy mlflow-artifacts, as JSON text. */
export async function readRolePolicies(iam: IAMClient, roleName: string) {
  const role = await iam.send(new GetRoleCommand({ RoleName: roleName }));
  const policy = await iam.send(
    new GetRolePolicyCommand({
      RoleName: roleName,
      PolicyName: 'mlflow-artifacts',
    }),
  );
  return {
    trust: decodeURIComponent(role.Role!.AssumeRolePolicyDocument!),
    artifacts: decodeURIComponent(policy.PolicyDocument!),
  };
}

/** The decoded values of the Secret `name`, by key. */
export async function readSecret(
  kube: MlflowKubernetesApi,
  name: string,
  namespace: string,
) {
  const secret = await kube.read<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    name,
    namespace,
  });
  return (key: string) => Buffer.from(secret!.data![key], 'base64').toString();
}

export function readDeployment(
  kube: MlflowKubernetesApi,
  name: string,
  namespace: string,
) {
  return kube.read<V1Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name,
    namespace,
  });
}

/** A session as `user` on `database`, at the host and port and with the password of a database Secret. */
export async function connectWithSecret(
  value: (key: string) => string,
  user: string,
  database: string,
) {
  const client = new Client({
    host: value('PGHOST'),
    port: Number(value('PGPORT')),
    user,
    password: value('PGPASSWORD'),
    database,
  });
  await client.connect();
  return client;
}
