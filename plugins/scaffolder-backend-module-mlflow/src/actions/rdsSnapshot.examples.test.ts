import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { MOCK_USER, testTenancy } from '../__testUtils__/tenancy';
import { createRdsSnapshotAction } from './rdsSnapshot';
import { examples } from './rdsSnapshot.examples';

const rds = mockClient(RDSClient);

describe('mlflow:rds:snapshot examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      rds.reset();
      const step = yaml.parse(example).steps[0];
      const instanceId = `mlflow-${step.input.name}`;
      let snapshot = '';
      rds.on(DescribeDBInstancesCommand).resolves({
        DBInstances: [
          {
            DBInstanceIdentifier: instanceId,
            DBInstanceStatus: 'available',
            TagList: [
              { Key: 'stateful-mlflow/instance', Value: step.input.name },
              { Key: 'owner', Value: MOCK_USER },
            ],
          },
        ],
      });
      rds.on(CreateDBSnapshotCommand).callsFake(async input => {
        snapshot = input.DBSnapshotIdentifier;
        return {};
      });
      rds.on(DescribeDBSnapshotsCommand).callsFake(async () => {
        if (!snapshot) throw awsError('DBSnapshotNotFound', 404);
        return {
          DBSnapshots: [
            { DBSnapshotIdentifier: snapshot, Status: 'available' },
          ],
        };
      });
      const action = createRdsSnapshotAction({
        aws: fakeAws,
        authorization: testTenancy().authorization,
        pollIntervalMs: 1,
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs.snapshotId).toBe(snapshot);
      expect(snapshot).toMatch(
        new RegExp(`^${instanceId}-${step.input.purpose}-\\d{8}t\\d{6}z$`),
      );
    },
  );
});
