import {
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createIamCreateRoleAction } from './iamCreateRole';
import { examples } from './iamCreateRole.examples';
import { testTenancy } from '../__testUtils__/tenancy';

const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);

describe('mlflow:iam:createRole examples', () => {
  const action = createIamCreateRoleAction({ aws: fakeAws, ...testTenancy() });

  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      iam.reset();
      sts.reset();
      sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
      iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 404));
      const step = yaml.parse(example).steps[0];
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs.roleName).toBe(resolveInstanceNames(step.input).roleName);
      expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
    },
  );
});
