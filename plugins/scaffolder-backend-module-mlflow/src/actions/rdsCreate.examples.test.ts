import {
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  CreateSecurityGroupCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createRdsCreateAction } from '../actionFactories';
import { examples } from './rdsCreate.examples';
import { testTenancy } from '../__testUtils__/tenancy';

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

describe('mlflow:rds:create examples', () => {
  const action = createRdsCreateAction({
    aws: fakeAws,
    ...testTenancy(),
    pollIntervalMs: 1,
  });

  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      const step = yaml.parse(example).steps[0];
      const instanceId = step.input.instanceId ?? `mlflow-${step.input.name}`;
      rds.reset();
      ec2.reset();
      sts.reset();
      sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
      rds
        .on(DescribeDBInstancesCommand)
        .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
        .resolves({
          DBInstances: [
            {
              DBInstanceIdentifier: instanceId,
              DBInstanceStatus: 'available',
              Endpoint: { Address: 'db.example', Port: 5432 },
              MasterUserSecret: { SecretArn: 'arn:secret' },
            },
          ],
        });
      rds
        .on(DescribeDBParameterGroupsCommand)
        .rejects(awsError('DBParameterGroupNotFound', 404));
      ec2
        .on(DescribeVpcsCommand)
        .resolves({ Vpcs: [{ VpcId: 'vpc-12345678' }] });
      ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
      ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-12345678' });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs).toMatchObject({ instanceId, status: 'available' });
    },
  );
});
