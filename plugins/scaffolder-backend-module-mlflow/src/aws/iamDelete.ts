import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { callAws, findAws } from './awsErrors';

const target = (roleName: string) => `IAM role "${roleName}"`;
const NOT_FOUND = ['NoSuchEntity', 'NoSuchEntityException'];

/** The role's inline policy names and attached policy ARNs, which must go before the role. */
export async function rolePolicies(
  iam: IAMClient,
  roleName: string,
): Promise<{ inline: string[]; attached: string[] }> {
  const inline = await callAws('iam:ListRolePolicies', target(roleName), () =>
    iam.send(new ListRolePoliciesCommand({ RoleName: roleName })),
  );
  const attached = await callAws(
    'iam:ListAttachedRolePolicies',
    target(roleName),
    () => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName })),
  );
  return {
    inline: inline.PolicyNames ?? [],
    attached: (attached.AttachedPolicies ?? []).flatMap(p =>
      p.PolicyArn ? [p.PolicyArn] : [],
    ),
  };
}

export async function deleteInlinePolicy(
  iam: IAMClient,
  roleName: string,
  policyName: string,
): Promise<void> {
  await findAws('iam:DeleteRolePolicy', target(roleName), NOT_FOUND, () =>
    iam.send(
      new DeleteRolePolicyCommand({
        RoleName: roleName,
        PolicyName: policyName,
      }),
    ),
  );
}

export async function detachPolicy(
  iam: IAMClient,
  roleName: string,
  policyArn: string,
): Promise<void> {
  await findAws('iam:DetachRolePolicy', target(roleName), NOT_FOUND, () =>
    iam.send(
      new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }),
    ),
  );
}

/** Deletes the role; already gone counts as done. */
export async function deleteRole(
  iam: IAMClient,
  roleName: string,
): Promise<void> {
  await findAws('iam:DeleteRole', target(roleName), NOT_FOUND, () =>
    iam.send(new DeleteRoleCommand({ RoleName: roleName })),
  );
}
