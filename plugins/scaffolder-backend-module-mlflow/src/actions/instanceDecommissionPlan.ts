import { IAMClient } from '@aws-sdk/client-iam';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  OWNERSHIP_TAG_KEY,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import type { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import {
  authorizeDecommission,
  ExistingResource,
} from '../authorization/authorizeRun';
import { AwsClientConfigProvider, callerAccountId } from '../aws/clients';
import { getRole } from '../aws/iam';
import { describeDbInstance } from '../aws/rds';
import { readBucketState } from '../aws/s3';
import { bucketRetainedUntil, retentionDate } from '../aws/s3Retire';
import { readSecretState } from '../aws/secretsManagerDelete';
import { taggedIdentity } from '../aws/tags';
import { readInstanceObjects } from '../kubernetes/instanceObjects';
import {
  describeRef,
  KubernetesApiProvider,
} from '../kubernetes/kubernetesApi';
import {
  deleteBucketInput,
  liftDeletionProtectionInput,
  retentionDaysInput,
  secretsManagerNameInput,
} from './decommissionInputs';
import {
  accountIdInput,
  clusterInput,
  nameInput,
  namespaceInput,
  rdsInstanceIdInput,
  regionInput,
  roleNameInput,
} from './inputProperties';
import { examples } from './instanceDecommissionPlan.examples';

function foreign(field: string, value: string, what: string, name: string) {
  return new InputError(
    `Invalid ${field}: received ${describeReceived(
      value,
    )}, but ${what} was not created for MLflow instance "${name}" (it lacks the instance's tag or labels, ${OWNERSHIP_TAG_KEY}=${name}). Nothing was deleted.`,
  );
}

/**
 * The first step of a decommission: checks the typed confirmation, reads everything the instance
 * has, decides whether the initiator may delete it and logs the whole deletion plan. Read-only.
 */
export function createInstanceDecommissionPlanAction(options: {
  aws: AwsClientConfigProvider;
  clusters: Pick<MlflowClusters, 'get'>;
  kubernetes: KubernetesApiProvider;
  authorization: InstanceChangeAuthorizationDeps;
}) {
  return createTemplateAction({
    id: 'mlflow:instance:planDecommission',
    description:
      "Checks that the name typed to confirm is the instance's, reads everything the MLflow instance has (Kubernetes objects, RDS instance, security and parameter groups, secrets, IAM role, bucket), checks that the initiator may delete it and that deletion protection is lifted when it is on, and logs the whole deletion plan. Deletes nothing.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        confirmName: z =>
          z
            .string()
            .describe(
              "The instance's name typed again to confirm the decommission; must equal name.",
            ),
        region: regionInput,
        accountId: accountIdInput,
        cluster: clusterInput,
        namespace: namespaceInput,
        rdsInstanceId: rdsInstanceIdInput,
        roleName: roleNameInput,
        bucket: z =>
          z
            .string()
            .optional()
            .describe('Artifact bucket; mlflow-<name>-artifacts when empty.'),
        secretsManagerName: secretsManagerNameInput,
        liftDeletionProtection: liftDeletionProtectionInput,
        deleteBucket: deleteBucketInput,
        retentionDays: retentionDaysInput,
      },
      output: {
        rdsInstanceId: z => z.string().describe('RDS DB instance identifier.'),
        bucket: z => z.string().describe('Artifact bucket.'),
        roleName: z => z.string().describe('IAM role of the tracking server.'),
        namespace: z => z.string().describe('Kubernetes namespace.'),
        secretsManagerName: z =>
          z
            .string()
            .describe('Secrets Manager copy of the database credentials.'),
        entityRef: z =>
          z.string().describe('The catalog Component of the instance.'),
        owner: z =>
          z.string().optional().describe('The owner the instance records.'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const name = validateName(nameRules.instanceName, 'name', input.name);
      if (input.confirmName !== name) {
        throw new InputError(
          `Invalid confirmName: received ${describeReceived(
            input.confirmName,
          )}, but it must be the instance's name "${name}" typed exactly, to confirm the decommission. Nothing was deleted.`,
        );
      }
      const names = resolveInstanceNames({
        name,
        namespace: input.namespace,
        rdsInstanceId: input.rdsInstanceId,
        roleName: input.roleName,
        bucket: input.bucket,
        secretsManagerName: input.secretsManagerName,
      });
      const region = validateName(nameRules.awsRegion, 'region', input.region);
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        names.namespace,
      );
      const instanceId = validateName(
        nameRules.rdsInstanceIdentifier,
        'rdsInstanceId',
        names.rdsInstanceId,
      );
      const roleName = validateName(
        nameRules.iamRoleName,
        'roleName',
        names.roleName,
      );
      const bucket = validateName(
        nameRules.s3BucketName,
        'bucket',
        names.bucket,
      );
      const secretName = validateName(
        nameRules.secretsManagerName,
        'secretsManagerName',
        names.secretsManagerName,
      );
      const cluster = options.clusters.get(input.cluster, 'cluster').name;

      const config = await options.aws.forRegion({
        region,
        accountId: input.accountId,
      });
      const account = await callerAccountId(config);
      const rds = new RDSClient(config);
      const s3 = new S3Client(config);
      const iam = new IAMClient(config);
      const secrets = new SecretsManagerClient(config);
      const api = options.kubernetes(cluster, { signal: ctx.signal });

      ctx.logger.info(`Reading everything MLflow instance ${name} has`);
      const objects = await readInstanceObjects({ api, name, namespace });
      const existing: ExistingResource[] = [...objects.existing];
      const plan: string[] = [];
      if (objects.objects.length > 0 || objects.namespaceOurs) {
        plan.push(
          `Kubernetes (${cluster}): delete ${[
            ...objects.objects.map(describeRef),
            ...(objects.namespaceOurs ? [`namespace ${namespace}`] : []),
          ].join(', ')}`,
        );
      }
      plan.push(
        `catalog: remove ${names.entityRef} and its Resources once the Deployment is gone`,
      );

      const instance = await describeDbInstance(rds, instanceId);
      if (instance) {
        const identity = taggedIdentity(instance.TagList, name);
        if (identity.kind === 'foreign') {
          throw foreign(
            'rdsInstanceId',
            instanceId,
            `RDS instance ${instanceId}`,
            name,
          );
        }
        existing.push({
          resource: `RDS instance ${instanceId}`,
          owner: identity.owner,
        });
        const isProtected =
          instance.DeletionProtection === true &&
          instance.DBInstanceStatus !== 'deleting';
        if (isProtected && !input.liftDeletionProtection) {
          throw new InputError(
            `Invalid liftDeletionProtection: received false, but RDS instance ${instanceId} has deletion protection on. Nothing was deleted. Choose to lift it (the owner's explicit choice, logged) to delete the instance after its final snapshot.`,
          );
        }
        plan.push(
          `RDS: ${
            isProtected ? 'lift deletion protection (asked for), ' : ''
          }take a final snapshot ${instanceId}-final-<UTC time>, delete instance ${instanceId} (${
            instance.DBInstanceStatus
          }), then its security group and parameter group`,
        );
      } else {
        plan.push(
          `RDS: instance ${instanceId} is gone; its security and parameter groups are deleted if left`,
        );
      }
      const secret = await readSecretState(secrets, { secretName, name });
      if (secret.kind === 'ours') {
        existing.push({
          resource: `secret ${secretName}`,
          owner: secret.owner,
        });
        plan.push(`Secrets Manager: delete ${secretName}`);
      }

      const role = await getRole(iam, roleName);
      if (role) {
        const identity = taggedIdentity(role.Tags, name);
        if (identity.kind === 'foreign') {
          throw foreign('roleName', roleName, `IAM role ${roleName}`, name);
        }
        existing.push({
          resource: `IAM role ${roleName}`,
          owner: identity.owner,
        });
        plan.push(`IAM: delete role ${roleName} and its policies`);
      }

      const bucketState = await readBucketState(s3, {
        bucket,
        account,
        name,
        region,
      });
      if (bucketState.kind === 'foreign' || bucketState.kind === 'untagged') {
        throw foreign('bucket', bucket, `bucket ${bucket}`, name);
      }
      if (bucketState.kind === 'ours') {
        existing.push({
          resource: `bucket ${bucket}`,
          owner: bucketState.owner,
        });
        const retainedUntil = await bucketRetainedUntil(s3, bucket);
        let bucketPlan = `S3: keep bucket ${bucket} with its artifacts, tagged as retained until ${retentionDate(
          new Date(),
          input.retentionDays,
        )}`;
        if (input.deleteBucket) {
          bucketPlan = `S3: empty bucket ${bucket} (every object version) and delete it`;
        } else if (retainedUntil) {
          bucketPlan = `S3: bucket ${bucket} stays retained until ${retainedUntil}`;
        }
        plan.push(bucketPlan);
      }

      const { owner } = await authorizeDecommission({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing,
        log: message => ctx.logger.info(message),
      });
      ctx.logger.info(
        `Decommission plan for MLflow instance ${name}:\n${plan
          .map(p => `- ${p}`)
          .join('\n')}`,
      );
      ctx.output('rdsInstanceId', instanceId);
      ctx.output('bucket', bucket);
      ctx.output('roleName', roleName);
      ctx.output('namespace', namespace);
      ctx.output('secretsManagerName', secretName);
      ctx.output('entityRef', names.entityRef);
      if (owner) {
        ctx.output('owner', owner);
      }
    },
  });
}
