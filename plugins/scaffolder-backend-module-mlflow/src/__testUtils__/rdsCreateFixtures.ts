import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError } from './aws';

/*
 * What the unit tests of mlflow:rds:create share: RDS, EC2 and STS mocked with
 * aws-sdk-client-mock, and the instance mlflow-demo of the MLflow instance demo.
 */

export const rds = mockClient(RDSClient);
export const ec2 = mockClient(EC2Client);
export const sts = mockClient(STSClient);

export const OURS = [{ Key: 'stateful-mlflow/instance', Value: 'demo' }];
export const available = {
  DBInstanceIdentifier: 'mlflow-demo',
  DBInstanceArn: 'arn:aws:rds:eu-west-1:123456789012:db:mlflow-demo',
  DBInstanceStatus: 'available',
  Endpoint: {
    Address: 'mlflow-demo.abc.eu-west-1.rds.amazonaws.com',
    Port: 5432,
  },
  MasterUserSecret: {
    SecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1',
  },
  TagList: OURS,
};

export const input = {
  name: 'demo',
  region: 'eu-west-1',
  allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
  owner: 'group:default/ml',
};

/** Every call that changes something in AWS. */
export function mutations() {
  return [
    ...rds.commandCalls(CreateDBInstanceCommand),
    ...rds.commandCalls(CreateDBParameterGroupCommand),
    ...rds.commandCalls(ModifyDBParameterGroupCommand),
    ...ec2.commandCalls(CreateSecurityGroupCommand),
    ...ec2.commandCalls(AuthorizeSecurityGroupIngressCommand),
  ];
}

/**
 * Resets the mocks to an account where nothing of demo exists yet: the instance is not found on
 * the first describe and available from then on, and a new security group gets an id.
 */
export function mockNothingCreatedYet() {
  rds.reset();
  ec2.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  rds
    .on(DescribeDBInstancesCommand)
    .rejectsOnce(awsError('DBInstanceNotFoundFault', 404))
    .resolves({ DBInstances: [available] });
  rds
    .on(DescribeDBParameterGroupsCommand)
    .rejects(awsError('DBParameterGroupNotFound', 404));
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-12345678' }] });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
  ec2
    .on(CreateSecurityGroupCommand)
    .resolves({ GroupId: 'sg-0fedcba9876543210' });
}
