import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { MOCK_USER, testTenancy } from '../__testUtils__/tenancy';
import { createRdsDeleteAction } from './rdsDelete';
import { examples } from './rdsDelete.examples';

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const secrets = mockClient(SecretsManagerClient);

describe('mlflow:rds:delete examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      rds.reset();
      ec2.reset();
      secrets.reset();
      const step = yaml.parse(example).steps[0];
      const instanceId = step.input.instanceId ?? `mlflow-${step.input.name}`;
      let gone = false;
      let snapshot = '';
      rds.on(DescribeDBInstancesCommand).callsFake(async () => {
        if (gone) throw awsError('DBInstanceNotFoundFault', 404);
        return {
          DBInstances: [
            {
              DBInstanceIdentifier: instanceId,
              DBInstanceStatus: 'available',
              DeletionProtection: step.input.liftDeletionProtection === true,
              TagList: [
                { Key: 'stateful-mlflow/instance', Value: step.input.name },
                { Key: 'owner', Value: MOCK_USER },
              ],
            },
          ],
        };
      });
      rds.on(ModifyDBInstanceCommand).resolves({});
      rds.on(DeleteDBInstanceCommand).callsFake(async input => {
        gone = true;
        snapshot = input.FinalDBSnapshotIdentifier!;
        return {};
      });
      rds.on(DescribeDBSnapshotsCommand).callsFake(async () => ({
        DBSnapshots: [{ DBSnapshotIdentifier: snapshot, Status: 'available' }],
      }));
      rds
        .on(DescribeDBParameterGroupsCommand)
        .resolves({ DBParameterGroups: [] });
      ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
      secrets
        .on(DescribeSecretCommand)
        .rejects(awsError('ResourceNotFoundException', 400));
      const action = createRdsDeleteAction({
        aws: fakeAws,
        authorization: testTenancy().authorization,
        pollIntervalMs: 1,
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs.instanceId).toBe(instanceId);
      expect(outputs.finalSnapshotId).toBe(snapshot);
      expect(snapshot).toMatch(
        new RegExp(
          `^${
            step.input.finalSnapshotIdentifier ??
            `${instanceId}-final-\\d{8}t\\d{6}z`
          }$`,
        ),
      );
    },
  );
});
