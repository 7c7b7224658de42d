import {
  DeleteRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { MOCK_USER, testTenancy } from '../__testUtils__/tenancy';
import { createIamDeleteRoleAction } from './iamDeleteRole';
import { examples } from './iamDeleteRole.examples';

const iam = mockClient(IAMClient);

describe('mlflow:iam:deleteRole examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      iam.reset();
      const step = yaml.parse(example).steps[0];
      const roleName = resolveInstanceNames(step.input).roleName;
      iam.on(GetRoleCommand).resolves({
        Role: {
          RoleName: roleName,
          Arn: `arn:aws:iam::123456789012:role/${roleName}`,
          Path: '/',
          RoleId: 'AROA',
          CreateDate: new Date(),
          Tags: [
            { Key: 'stateful-mlflow/instance', Value: step.input.name },
            { Key: 'owner', Value: MOCK_USER },
          ],
        },
      });
      iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
      iam
        .on(ListAttachedRolePoliciesCommand)
        .resolves({ AttachedPolicies: [] });
      const action = createIamDeleteRoleAction({
        aws: fakeAws,
        ...testTenancy(),
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs).toEqual({ roleName, deleted: true });
      expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
    },
  );
});
