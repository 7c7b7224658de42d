import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  Role,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { awsErrorName, callAws } from '../aws/awsErrors';
import {
  AwsClientConfigProvider,
  awsPartition,
  callerAccountId,
} from '../aws/clients';
import { isOursTagged, mlflowTags } from '../aws/tags';
import {
  accountIdInput,
  DEFAULT_ARTIFACT_PREFIX,
  DEFAULT_SERVICE_ACCOUNT,
  defaultNamespace,
  environmentInput,
  nameInput,
  ownerInput,
  regionInput,
  tagsInput,
} from './commonInputs';
import { validateArtifactPrefix } from './s3Create';
import { examples } from './iamCreateRole.examples';

/** Name of the inline policy granting the artifact access. */
export const ARTIFACT_POLICY_NAME = 'mlflow-artifacts';

/** Trust policy letting the tracking server's ServiceAccount, and only it, assume the role. */
export function trustPolicy(options: {
  trustType: 'irsa' | 'podIdentity';
  oidcProviderArn?: string;
  namespace: string;
  serviceAccountName: string;
}) {
  const { namespace, serviceAccountName } = options;
  if (options.trustType === 'podIdentity') {
    return {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:RequestTag/kubernetes-namespace': namespace,
              'aws:RequestTag/kubernetes-service-account': serviceAccountName,
            },
          },
        },
      ],
    };
  }
  const issuer = options.oidcProviderArn!.split(':oidc-provider/')[1];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: options.oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccountName}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
}

/** Permissions limited to the artifact prefix of one bucket (and its KMS key when there is one). */
export function artifactPolicy(options: {
  partition: string;
  bucket: string;
  prefix: string;
  kmsKeyArn?: string;
}) {
  const bucketArn = `arn:${options.partition}:s3:::${options.bucket}`;
  const statements: object[] = [
    {
      Sid: 'ListArtifactPrefix',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucketArn,
      Condition: {
        StringLike: { 's3:prefix': [options.prefix, `${options.prefix}/*`] },
      },
    },
    {
      Sid: 'ReadWriteArtifacts',
      Effect: 'Allow',
      Action: [
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
      ],
      Resource: `${bucketArn}/${options.prefix}/*`,
    },
  ];
  if (options.kmsKeyArn) {
    statements.push({
      Sid: 'UseArtifactKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: options.kmsKeyArn,
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

const OIDC_PROVIDER_ARN =
  /^arn:aws[\w-]*:iam::\d{12}:oidc-provider\/[\w.-]+(\/[\w.-]+)*$/;
const KMS_KEY_ARN = /^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key\/[\w-]+$/;
const BOUNDARY_ARN = /^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;

function validateArn(
  field: string,
  value: string,
  pattern: RegExp,
  accepted: string,
) {
  if (!pattern.test(value)) {
    throw new InputError(
      `Invalid ${field}: received ${describeReceived(
        value,
      )}. Accepted: ${accepted}.`,
    );
  }
  return value;
}

/** Creates the IAM role the MLflow server's ServiceAccount assumes to reach its artifacts. */
export function createIamCreateRoleAction(options: {
  aws: AwsClientConfigProvider;
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
        roleName: z =>
          z
            .string()
            .optional()
            .describe('Name of the role; mlflow-<name> when empty.'),
        bucket: z =>
          z
            .string()
            .describe(
              'Artifact bucket (the output bucket of mlflow:s3:create).',
            ),
        artifactPrefix: z =>
          z
            .string()
            .default(DEFAULT_ARTIFACT_PREFIX)
            .describe(
              'Key prefix of the artifacts; the role may touch nothing else.',
            ),
        kmsKeyArn: z =>
          z
            .string()
            .optional()
            .describe(
              'ARN of the KMS key encrypting the bucket, when it uses SSE-KMS.',
            ),
        namespace: z =>
          z
            .string()
            .optional()
            .describe(
              'Namespace of the tracking server; mlflow-<name> when empty.',
            ),
        serviceAccountName: z =>
          z
            .string()
            .default(DEFAULT_SERVICE_ACCOUNT)
            .describe('ServiceAccount of the tracking server.'),
        trustType: z =>
          z
            .enum(['irsa', 'podIdentity'])
            .default('irsa')
            .describe(
              'irsa: trust the cluster OIDC provider for this ServiceAccount (needs oidcProviderArn). podIdentity: trust EKS Pod Identity (the association is created on the cluster side).',
            ),
        oidcProviderArn: z =>
          z
            .string()
            .optional()
            .describe(
              "ARN of the cluster's IAM OIDC provider, arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>; required for irsa.",
            ),
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
      const {
        serviceAccountName,
        trustType,
        environment,
        owner,
        tags,
        accountId,
      } = ctx.input;
      const name = validateName(nameRules.instanceName, 'name', ctx.input.name);
      const region = validateName(
        nameRules.awsRegion,
        'region',
        ctx.input.region,
      );
      const roleName = validateName(
        nameRules.iamRoleName,
        'roleName',
        ctx.input.roleName || `mlflow-${name}`,
      );
      const bucket = validateName(
        nameRules.s3BucketName,
        'bucket',
        ctx.input.bucket,
      );
      const prefix = validateArtifactPrefix(
        'artifactPrefix',
        ctx.input.artifactPrefix,
      );
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        ctx.input.namespace || defaultNamespace(name),
      );
      validateName(
        nameRules.kubernetesName,
        'serviceAccountName',
        serviceAccountName,
      );
      const kmsKeyArn =
        ctx.input.kmsKeyArn &&
        validateArn(
          'kmsKeyArn',
          ctx.input.kmsKeyArn,
          KMS_KEY_ARN,
          'a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>',
        );
      const permissionsBoundaryArn =
        ctx.input.permissionsBoundaryArn &&
        validateArn(
          'permissionsBoundaryArn',
          ctx.input.permissionsBoundaryArn,
          BOUNDARY_ARN,
          'an IAM policy ARN, arn:aws:iam::<account>:policy/<name>',
        );
      if (trustType === 'irsa') {
        if (!ctx.input.oidcProviderArn) {
          throw new InputError(
            "Missing oidcProviderArn: received nothing, but trustType irsa needs the ARN of the cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>). Accepted: that ARN, or trustType podIdentity.",
          );
        }
        validateArn(
          'oidcProviderArn',
          ctx.input.oidcProviderArn,
          OIDC_PROVIDER_ARN,
          'arn:aws:iam::<account>:oidc-provider/<issuer host and path>',
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
          bucket,
          prefix,
          kmsKeyArn,
        }),
      );
      const roleTags = mlflowTags({ name, owner, environment, extra: tags });
      const config = await options.aws.forRegion({ region, accountId });
      const iam = new IAMClient(config);
      const account = await callerAccountId(config);
      const roleArn = `arn:${awsPartition(
        region,
      )}:iam::${account}:role/${roleName}`;
      const target = `IAM role "${roleName}"`;

      ctx.logger.info(`Checking whether IAM role ${roleName} exists`);
      const existing = await getRole(iam, roleName);
      if (existing && !isOursTagged(existing.Tags, name)) {
        throw new InputError(
          `Invalid roleName: received ${describeReceived(
            roleName,
          )}, but an IAM role with that name already exists and was not created for MLflow instance "${name}" (it lacks the tag stateful-mlflow/instance=${name}). It is not adopted silently: choose another role name.`,
        );
      }
      ctx.logger.info(
        `Plan for IAM role ${roleName}: ${
          existing
            ? 'it exists and is ours; converge its trust and policy'
            : 'create it'
        }; trusted by system:serviceaccount:${namespace}:${serviceAccountName} through ${
          trustType === 'irsa' ? ctx.input.oidcProviderArn : 'EKS Pod Identity'
        }; may list s3://${bucket}/${prefix}/ and get, put and delete objects there${
          kmsKeyArn ? `, and use KMS key ${kmsKeyArn}` : ''
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
              await callAws('iam:UpdateAssumeRolePolicy', target, () =>
                iam.send(
                  new UpdateAssumeRolePolicyCommand({
                    RoleName: roleName,
                    PolicyDocument: trust,
                  }),
                ),
              );
              await callAws('iam:TagRole', target, () =>
                iam.send(
                  new TagRoleCommand({ RoleName: roleName, Tags: roleTags }),
                ),
              );
            },
          });
        } else {
          await ctx.checkpoint({
            key: `mlflow:iam:${roleName}:create`,
            fn: async () => {
              ctx.logger.info(`Creating IAM role ${roleName}`);
              await callAws('iam:CreateRole', target, () =>
                iam.send(
                  new CreateRoleCommand({
                    RoleName: roleName,
                    AssumeRolePolicyDocument: trust,
                    Description: `MLflow tracking server of instance ${name}`,
                    PermissionsBoundary: permissionsBoundaryArn || undefined,
                    Tags: roleTags,
                  }),
                ),
              );
            },
          });
        }
        await ctx.checkpoint({
          key: `mlflow:iam:${roleName}:policy`,
          fn: async () => {
            ctx.logger.info(
              `Granting IAM role ${roleName} access to s3://${bucket}/${prefix}/ (inline policy ${ARTIFACT_POLICY_NAME})`,
            );
            await callAws('iam:PutRolePolicy', target, () =>
              iam.send(
                new PutRolePolicyCommand({
                  RoleName: roleName,
                  PolicyName: ARTIFACT_POLICY_NAME,
                  PolicyDocument: policy,
                }),
              ),
            );
          },
        });
      }

      ctx.output('roleArn', existing?.Arn ?? roleArn);
      ctx.output('roleName', roleName);
    },
  });
}

async function getRole(
  iam: IAMClient,
  roleName: string,
): Promise<Role | undefined> {
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (
      awsErrorName(error) === 'NoSuchEntity' ||
      awsErrorName(error) === 'NoSuchEntityException'
    ) {
      return undefined;
    }
    return callAws('iam:GetRole', `IAM role "${roleName}"`, () =>
      Promise.reject(error),
    );
  }
}
