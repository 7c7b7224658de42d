import { ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { fakeModifiableRds } from '../__testUtils__/fakeRdsModify';
import { testTenancy } from '../__testUtils__/tenancy';
import { createRdsModifyAction } from './rdsModify';
import { examples } from './rdsModify.examples';

const rds = mockClient(RDSClient);

describe('mlflow:rds:modify examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      rds.reset();
      const step = yaml.parse(example).steps[0];
      const instance = fakeModifiableRds(rds, { name: step.input.name });
      const action = createRdsModifyAction({
        aws: fakeAws,
        authorization: testTenancy().authorization,
        pollIntervalMs: 1,
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);
      expect(outputs.instanceId).toBe(`mlflow-${step.input.name}`);
      const immediate = Boolean(step.input.applyImmediately);
      expect({
        status: instance.DBInstanceStatus,
        backupRetention: instance.BackupRetentionPeriod,
        storage: instance.AllocatedStorage,
        pending: outputs.pendingChanges,
      }).toEqual({
        status: 'available',
        backupRetention: immediate ? step.input.backupRetentionDays : 7,
        storage: immediate ? step.input.allocatedStorageGiB : 20,
        pending: immediate
          ? []
          : [`instance class ${step.input.instanceClass}`],
      });
    },
  );
});
