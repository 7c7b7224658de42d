import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  SecurityGroup,
} from '@aws-sdk/client-ec2';
import { InputError } from '@backstage/errors';
import { describeReceived } from '@stateful-mlflow/plugin-mlflow-common';
import { StepDeadline } from '../util/stepDeadline';
import { awsErrorName, callAws, findAws } from './awsErrors';
import { AwsTag } from './tags';

/** The PostgreSQL port the security group opens. */
export const POSTGRES_PORT = 5432;

/** The account's default VPC in the client's region; an InputError asking for vpcId when there is none. */
export async function defaultVpcId(
  ec2: EC2Client,
  region: string,
  deadline?: StepDeadline,
): Promise<string> {
  const vpcs = await callAws(
    'ec2:DescribeVpcs',
    `the default VPC of ${region}`,
    abortSignal =>
      ec2.send(
        new DescribeVpcsCommand({
          Filters: [{ Name: 'is-default', Values: ['true'] }],
        }),
        { abortSignal },
      ),
    deadline,
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    throw new InputError(
      `Missing vpcId: the account has no default VPC in ${region}. Give the vpcId (and dbSubnetGroupName) of the VPC your cluster runs in.`,
    );
  }
  return vpcId;
}

/** The security group of that name in the VPC, or undefined. */
export async function findSecurityGroup(
  ec2: EC2Client,
  groupName: string,
  vpcId: string,
  deadline?: StepDeadline,
): Promise<SecurityGroup | undefined> {
  const result = await callAws(
    'ec2:DescribeSecurityGroups',
    `security group "${groupName}"`,
    abortSignal =>
      ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'group-name', Values: [groupName] },
            { Name: 'vpc-id', Values: [vpcId] },
          ],
        }),
        { abortSignal },
      ),
    deadline,
  );
  return result.SecurityGroups?.[0];
}

/** Throws an InputError naming `field` unless every group exists (read-only). */
export async function assertSecurityGroupsExist(
  ec2: EC2Client,
  options: { field: string; groupIds: string[]; region: string },
  deadline?: StepDeadline,
): Promise<void> {
  const { field, groupIds, region } = options;
  const found = await findAws(
    'ec2:DescribeSecurityGroups',
    'the allowed security groups',
    ['InvalidGroup.NotFound'],
    abortSignal =>
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }), {
        abortSignal,
      }),
    deadline,
  );
  if (!found) {
    throw new InputError(
      `Invalid ${field}: received ${describeReceived(
        groupIds.join(','),
      )}, but at least one of them does not exist in ${region}. Accepted: ids of existing security groups in the instance's VPC.`,
    );
  }
}

/** Creates a tagged security group and returns its id. */
export async function createSecurityGroup(
  ec2: EC2Client,
  options: {
    groupName: string;
    description: string;
    vpcId: string;
    tags: AwsTag[];
  },
  deadline?: StepDeadline,
): Promise<string> {
  const created = await callAws(
    'ec2:CreateSecurityGroup',
    `security group "${options.groupName}"`,
    abortSignal =>
      ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: options.groupName,
          Description: options.description,
          VpcId: options.vpcId,
          TagSpecifications: [
            { ResourceType: 'security-group', Tags: options.tags },
          ],
        }),
        { abortSignal },
      ),
    deadline,
  );
  if (!created.GroupId) {
    throw new Error('ec2:CreateSecurityGroup returned no GroupId');
  }
  return created.GroupId;
}

/** Lets members of `sourceGroupId` reach PostgreSQL; the same rule already there counts as done. */
export async function allowPostgresFrom(
  ec2: EC2Client,
  options: { groupId: string; sourceGroupId: string; description: string },
  deadline?: StepDeadline,
): Promise<void> {
  await callAws(
    'ec2:AuthorizeSecurityGroupIngress',
    `security group "${options.groupId}"`,
    async abortSignal => {
      try {
        await ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: options.groupId,
            IpPermissions: [
              {
                IpProtocol: 'tcp',
                FromPort: POSTGRES_PORT,
                ToPort: POSTGRES_PORT,
                UserIdGroupPairs: [
                  {
                    GroupId: options.sourceGroupId,
                    Description: options.description,
                  },
                ],
              },
            ],
          }),
          { abortSignal },
        );
      } catch (error) {
        if (awsErrorName(error) !== 'InvalidPermission.Duplicate') {
          throw error;
        }
      }
    },
    deadline,
  );
}
