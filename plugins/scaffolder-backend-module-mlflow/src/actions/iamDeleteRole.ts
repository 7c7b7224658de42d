import { IAMClient } from '@aws-sdk/client-iam';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  OWNERSHIP_TAG_KEY,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeDecommission } from '../authorization/authorizeRun';
import { AwsClientConfigProvider } from '../aws/clients';
import { getRole } from '../aws/iam';
import {
  deleteInlinePolicy,
  deleteRole,
  detachPolicy,
  rolePolicies,
} from '../aws/iamDelete';
import { taggedIdentity } from '../aws/tags';
import {
  accountIdInput,
  nameInput,
  regionInput,
  roleNameInput,
} from './inputProperties';
import { examples } from './iamDeleteRole.examples';

/** Deletes the IAM role of an MLflow instance's tracking server, with its policies. */
export function createIamDeleteRoleAction(options: {
  aws: AwsClientConfigProvider;
  authorization: InstanceChangeAuthorizationDeps;
}) {
  return createTemplateAction({
    id: 'mlflow:iam:deleteRole',
    description:
      "Deletes the IAM role of an MLflow instance's tracking server: its inline policies, the managed policies attached to it, then the role. A role without the instance's tag is refused and left alone.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        roleName: roleNameInput,
      },
      output: {
        roleName: z => z.string().describe('Name of the role.'),
        deleted: z =>
          z
            .boolean()
            .describe('Whether this run deleted the role (false on a rerun).'),
      },
    },
    async handler(ctx) {
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
      const iam = new IAMClient(
        await options.aws.forRegion({ region, accountId: ctx.input.accountId }),
      );

      ctx.logger.info(`Checking whether IAM role ${roleName} exists`);
      const role = await getRole(iam, roleName);
      const identity = role && taggedIdentity(role.Tags, name);
      if (identity?.kind === 'foreign') {
        throw new InputError(
          `Invalid roleName: received ${describeReceived(
            roleName,
          )}, but that IAM role was not created for MLflow instance "${name}" (it lacks the tag ${OWNERSHIP_TAG_KEY}=${name}). Nothing was deleted.`,
        );
      }
      await authorizeDecommission({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing: identity
          ? [{ resource: `IAM role ${roleName}`, owner: identity.owner }]
          : [],
        log: message => ctx.logger.info(message),
      });
      ctx.output('roleName', roleName);
      if (!role) {
        ctx.logger.info(`IAM role ${roleName} is gone`);
        ctx.output('deleted', false);
        return;
      }
      const policies = await rolePolicies(iam, roleName);
      ctx.logger.info(
        `Plan for IAM role ${roleName}: delete ${
          policies.inline.length > 0
            ? `inline policies ${policies.inline.join(', ')}, `
            : ''
        }${
          policies.attached.length > 0
            ? `detach ${policies.attached.join(', ')}, `
            : ''
        }then the role`,
      );
      if (ctx.isDryRun) {
        ctx.output('deleted', true);
        return;
      }
      for (const policyName of policies.inline) {
        await ctx.checkpoint({
          key: `mlflow:iam:${roleName}:delete-policy:${policyName}`,
          fn: async () => {
            ctx.logger.info(
              `Deleting inline policy ${policyName} of IAM role ${roleName}`,
            );
            await deleteInlinePolicy(iam, roleName, policyName);
          },
        });
      }
      for (const policyArn of policies.attached) {
        await ctx.checkpoint({
          key: `mlflow:iam:${roleName}:detach:${policyArn}`,
          fn: async () => {
            ctx.logger.info(`Detaching ${policyArn} from IAM role ${roleName}`);
            await detachPolicy(iam, roleName, policyArn);
          },
        });
      }
      await ctx.checkpoint({
        key: `mlflow:iam:${roleName}:delete`,
        fn: async () => {
          ctx.logger.info(`Deleting IAM role ${roleName}`);
          await deleteRole(iam, roleName);
        },
      });
      ctx.output('deleted', true);
    },
  });
}
