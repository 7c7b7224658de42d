import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { mockCredentials } from '@backstage/backend-test-utils';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  fakeAuthorization,
  MOCK_USER,
  testTenancy,
} from '../__testUtils__/tenancy';
import { createIamDeleteRoleAction } from './iamDeleteRole';

const iam = mockClient(IAMClient);
const input = { name: 'demo', region: 'eu-west-1' };

function role(
  tags = [
    { Key: 'stateful-mlflow/instance', Value: 'demo' },
    { Key: 'owner', Value: MOCK_USER },
  ],
) {
  iam.on(GetRoleCommand).resolves({
    Role: {
      RoleName: 'mlflow-demo',
      Arn: 'arn:aws:iam::123456789012:role/mlflow-demo',
      Path: '/',
      RoleId: 'AROA',
      CreateDate: new Date(),
      Tags: tags,
    },
  });
  iam
    .on(ListRolePoliciesCommand)
    .resolves({ PolicyNames: ['mlflow-artifacts'] });
  iam.on(ListAttachedRolePoliciesCommand).resolves({
    AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
  });
}

describe('mlflow:iam:deleteRole', () => {
  beforeEach(() => iam.reset());

  it('deletes the inline policy, detaches the managed one, then deletes the role', async () => {
    role();
    const action = createIamDeleteRoleAction({
      aws: fakeAws,
      ...testTenancy(),
    });
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    expect(iam.commandCalls(DeleteRolePolicyCommand)[0].args[0].input).toEqual({
      RoleName: 'mlflow-demo',
      PolicyName: 'mlflow-artifacts',
    });
    expect(iam.commandCalls(DetachRolePolicyCommand)).toHaveLength(1);
    expect(iam.commandCalls(DeleteRoleCommand)[0].args[0].input).toEqual({
      RoleName: 'mlflow-demo',
    });
    expect(run.outputs).toEqual({ roleName: 'mlflow-demo', deleted: true });
  });

  it('changes nothing when the role is gone', async () => {
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 404));
    const action = createIamDeleteRoleAction({
      aws: fakeAws,
      ...testTenancy(),
    });
    const run = createCheckpointingContext(action, { input });
    await action.handler(run.ctx);
    expect(iam.commandCalls(DeleteRoleCommand)).toEqual([]);
    expect(run.outputs).toEqual({ roleName: 'mlflow-demo', deleted: false });
  });

  it('refuses a role not created for the instance', async () => {
    role([{ Key: 'team', Value: 'x' }]);
    const action = createIamDeleteRoleAction({
      aws: fakeAws,
      ...testTenancy(),
    });
    const run = createCheckpointingContext(action, { input });
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /Invalid roleName: received "mlflow-demo", but that IAM role was not created for MLflow instance "demo"/,
    );
    expect(iam.commandCalls(DeleteRoleCommand)).toEqual([]);
  });

  it('refuses a non-owner before any change', async () => {
    role();
    const action = createIamDeleteRoleAction({
      aws: fakeAws,
      authorization: fakeAuthorization(),
    });
    const run = createCheckpointingContext(action, { input });
    run.ctx.getInitiatorCredentials = async () =>
      mockCredentials.user('user:default/mallory');
    await expect(action.handler(run.ctx)).rejects.toThrow(
      /may not decommission .*owned by user:default\/mock/,
    );
    expect(iam.commandCalls(DeleteRolePolicyCommand)).toEqual([]);
  });

  it('plans without a change in dry-run', async () => {
    role();
    const action = createIamDeleteRoleAction({
      aws: fakeAws,
      ...testTenancy(),
    });
    const run = createCheckpointingContext(action, { input, isDryRun: true });
    await action.handler(run.ctx);
    expect(iam.commandCalls(DeleteRoleCommand)).toEqual([]);
    expect(run.logs.map(l => l.message)).toContain(
      'Plan for IAM role mlflow-demo: delete inline policies mlflow-artifacts, detach arn:aws:iam::aws:policy/ReadOnlyAccess, then the role',
    );
  });
});
