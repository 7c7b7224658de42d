import { IAMClient } from '@aws-sdk/client-iam';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import {
  AwsClientConfigProvider,
  awsPartition,
  callerAccountId,
} from '../aws/clients';
import {
  ARTIFACT_POLICY_NAME,
  artifactPolicy,
  createRole,
  getRole,
  putArtifactPolicy,
  trustPolicy,
  updateRoleTrust,
} from '../aws/iam';
import { mlflowTags, taggedIdentity } from '../aws/tags';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun } from '../authorization/authorizeRun';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';
import {
  accountIdInput,
  artifactPrefixInput,
  environmentInput,
  nameInput,
  namespaceInput,
  oidcProviderArnInput,
  ownerInput,
  regionInput,
  roleNameInput,
  serviceAccountNameInput,
  tagsInput,
  trustTypeInput,
} from './inputProperties';
import { examples } from './iamCreateRole.examples';

/**
 * Creates the IAM role the MLflow server's ServiceAccount assumes to reach its artifacts.
 *
 * @public
 */
export function createIamCreateRoleAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
  guardRails: ProvisioningGuardRails;
}) {
  return createTemplateAction({
    id: 'mlflow:iam:createRole',
    description:
      "Creates (or converges) the IAM role of an MLflow tracking server: trusted only by its Kubernetes ServiceAccount (IRSA through the cluster's OIDC provider, or EKS Pod Identity), allowed only to list, read, write and delete objects under the artifact prefix of its bucket (and to use its KMS key).",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        roleName: roleNameInput,
        bucket: z =>
          z
            .string()
            .describe(
              'Artifact bucket (the output bucket of mlflow:s3:create).',
            ),
        artifactPrefix: artifactPrefixInput,
        kmsKeyArn: z =>
          z
            .string()
            .optional()
            .describe(
              'ARN of the KMS key encrypting the bucket, when it uses SSE-KMS.',
            ),
        namespace: namespaceInput,
        serviceAccountName: serviceAccountNameInput,
        trustType: trustTypeInput,
        oidcProviderArn: oidcProviderArnInput,
        permissionsBoundaryArn: z =>
          z
            .string()
            .optional()
            .describe(
              'Permissions boundary policy, when your organisation requires one.',
            ),
        environment: environmentInput,
        owner: ownerInput,
        tags: tagsInput,
      },
      output: {
        roleArn: z =>
          z
            .string()
            .describe(
              'ARN of the role: the roleArn input of mlflow:kubernetes:deploy (ServiceAccount annotation).',
            ),
        roleName: z => z.string().describe('Name of the role.'),
      },
    },
    async handler(ctx) {
      const { serviceAccountName, trustType, environment, tags, accountId } =
        ctx.input;
      const name = validateName(nameRules.instanceName, 'name', ctx.input.name);
      const names = resolveInstanceNames({ ...ctx.input, name });
      const region = validateName(
        nameRules.awsRegion,
        'region',
        ctx.input.region,
      );
      const roleName = validateName(
        nameRules.iamRoleName,
        'roleName',
        names.roleName,
      );
      const bucket = validateName(
        nameRules.s3BucketName,
        'bucket',
        ctx.input.bucket,
      );
      const prefix = validateName(
        nameRules.artifactPrefix,
        'artifactPrefix',
        names.artifactPrefix,
      );
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        names.namespace,
      );
      validateName(
        nameRules.kubernetesName,
        'serviceAccountName',
        serviceAccountName,
      );
      const kmsKeyArn =
        ctx.input.kmsKeyArn &&
        validateName(nameRules.kmsKeyArn, 'kmsKeyArn', ctx.input.kmsKeyArn);
      if (kmsKeyArn) {
        options.guardRails.checkKmsKeyArn(kmsKeyArn, region);
      }
      const permissionsBoundaryArn =
        ctx.input.permissionsBoundaryArn &&
        validateName(
          nameRules.iamPolicyArn,
          'permissionsBoundaryArn',
          ctx.input.permissionsBoundaryArn,
        );
      if (trustType === 'irsa') {
        if (!ctx.input.oidcProviderArn) {
          throw new InputError(
            `Missing oidcProviderArn: received nothing, but trustType irsa needs the ARN of the cluster's IAM OIDC provider. Accepted: ${nameRules.oidcProviderArn.accepted}, or trustType podIdentity.`,
          );
        }
        validateName(
          nameRules.oidcProviderArn,
          'oidcProviderArn',
          ctx.input.oidcProviderArn,
        );
      }

      const trust = JSON.stringify(
        trustPolicy({
          trustType,
          oidcProviderArn: ctx.input.oidcProviderArn,
          namespace,
          serviceAccountName,
        }),
      );
      const policy = JSON.stringify(
        artifactPolicy({
          partition: awsPartition(region),
          region,
          bucket,
          prefix,
          kmsKeyArn,
        }),
      );
      const config = await options.aws.forRegion({ region, accountId });
      const iam = new IAMClient(config);
      const account = await callerAccountId(config);
      const roleArn = `arn:${awsPartition(
        region,
      )}:iam::${account}:role/${roleName}`;

      ctx.logger.info(`Checking whether IAM role ${roleName} exists`);
      const existing = await getRole(iam, roleName);
      const identity = existing && taggedIdentity(existing.Tags, name);
      if (identity?.kind === 'foreign') {
        throw new InputError(
          `Invalid roleName: received ${describeReceived(
            roleName,
          )}, but an IAM role with that name already exists and was not created for MLflow instance "${name}" (it lacks the tag stateful-mlflow/instance=${name}). It is not adopted silently: choose another role name.`,
        );
      }
      const { owner } = await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        requestedOwner: ctx.input.owner,
        existing: identity
          ? [{ resource: `IAM role ${roleName}`, owner: identity.owner }]
          : [],
        log: message => ctx.logger.info(message),
      });
      const roleTags = mlflowTags({ name, owner, environment, extra: tags });
      ctx.logger.info(
        `Plan for IAM role ${roleName}: ${
          existing
            ? 'it exists and is ours; converge its trust and policy'
            : 'create it'
        }; trusted by system:serviceaccount:${namespace}:${serviceAccountName} through ${
          trustType === 'irsa' ? ctx.input.oidcProviderArn : 'EKS Pod Identity'
        }; may list s3://${bucket}/${prefix}/ and get, put and delete objects there${
          kmsKeyArn
            ? `, and use KMS key ${kmsKeyArn} only through S3 in ${region} for this bucket`
            : ''
        }`,
      );

      if (!ctx.isDryRun) {
        if (existing) {
          await ctx.checkpoint({
            key: `mlflow:iam:${roleName}:trust`,
            fn: async () => {
              ctx.logger.info(
                `Updating the trust policy of IAM role ${roleName}`,
              );
              await updateRoleTrust(iam, {
                roleName,
                trustPolicy: trust,
                tags: roleTags,
              });
            },
          });
        } else {
          await ctx.checkpoint({
            key: `mlflow:iam:${roleName}:create`,
            fn: async () => {
              ctx.logger.info(`Creating IAM role ${roleName}`);
              await createRole(iam, {
                roleName,
                trustPolicy: trust,
                description: `MLflow tracking server of instance ${name}`,
                permissionsBoundaryArn,
                tags: roleTags,
              });
            },
          });
        }
        await ctx.checkpoint({
          key: `mlflow:iam:${roleName}:policy`,
          fn: async () => {
            ctx.logger.info(
              `Granting IAM role ${roleName} access to s3://${bucket}/${prefix}/ (inline policy ${ARTIFACT_POLICY_NAME})`,
            );
            await putArtifactPolicy(iam, roleName, policy);
          },
        });
      }

      ctx.output('roleArn', existing?.Arn ?? roleArn);
      ctx.output('roleName', roleName);
    },
  });
}
