import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  Role,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { awsErrorName, callAws } from './awsErrors';
import { AwsTag } from './tags';

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

/**
 * Permissions limited to the artifact prefix of one bucket, and, when the bucket uses SSE-KMS, its
 * key only through S3 in the bucket's region and only for this bucket's objects (encryption
 * context), so the role cannot decrypt anything else with that key.
 */
export function artifactPolicy(options: {
  partition: string;
  region: string;
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
      Condition: {
        StringEquals: {
          'kms:ViaService': `s3.${options.region}.amazonaws.com`,
        },
        // With a bucket key the context is the bucket's ARN, without one the object's.
        StringLike: {
          'kms:EncryptionContext:aws:s3:arn': [
            bucketArn,
            `${bucketArn}/${options.prefix}/*`,
          ],
        },
      },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** The role, or undefined when there is none of that name. Read-only. */
export async function getRole(
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

const target = (roleName: string) => `IAM role "${roleName}"`;

export async function createRole(
  iam: IAMClient,
  options: {
    roleName: string;
    trustPolicy: string;
    description: string;
    permissionsBoundaryArn?: string;
    tags: AwsTag[];
  },
): Promise<void> {
  await callAws('iam:CreateRole', target(options.roleName), () =>
    iam.send(
      new CreateRoleCommand({
        RoleName: options.roleName,
        AssumeRolePolicyDocument: options.trustPolicy,
        Description: options.description,
        PermissionsBoundary: options.permissionsBoundaryArn || undefined,
        Tags: options.tags,
      }),
    ),
  );
}

/** Converges the trust policy and tags of an existing role of ours. */
export async function updateRoleTrust(
  iam: IAMClient,
  options: { roleName: string; trustPolicy: string; tags: AwsTag[] },
): Promise<void> {
  const { roleName } = options;
  await callAws('iam:UpdateAssumeRolePolicy', target(roleName), () =>
    iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: roleName,
        PolicyDocument: options.trustPolicy,
      }),
    ),
  );
  await callAws('iam:TagRole', target(roleName), () =>
    iam.send(new TagRoleCommand({ RoleName: roleName, Tags: options.tags })),
  );
}

export async function putArtifactPolicy(
  iam: IAMClient,
  roleName: string,
  policy: string,
): Promise<void> {
  await callAws('iam:PutRolePolicy', target(roleName), () =>
    iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: ARTIFACT_POLICY_NAME,
        PolicyDocument: policy,
      }),
    ),
  );
}
