import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import yaml from 'yaml';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { FakeSqlClient } from '../__testUtils__/FakeSqlClient';
import { createDatabaseCreateAction } from '../actionFactories';
import { testTenancy } from '../__testUtils__/tenancy';
import { examples } from './databaseCreate.examples';

const rds = mockClient(RDSClient);
const secrets = mockClient(SecretsManagerClient);

/** What the template expressions of the examples resolve to in a real run. */
const STEP_OUTPUTS: Record<string, string> = {
  '${{ steps.rds.output.instanceId }}': 'mlflow-demo',
  '${{ steps.rds.output.masterSecretArn }}':
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1',
};

describe('mlflow:database:create examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      rds.reset();
      secrets.reset();
      rds.on(DescribeDBInstancesCommand).resolves({
        DBInstances: [
          {
            DBInstanceStatus: 'available',
            Endpoint: { Address: 'db.example', Port: 5432 },
            TagList: [
              {
                Key: 'stateful-mlflow/instance',
                Value: yaml.parse(example).steps[0].input.name,
              },
            ],
            MasterUserSecret: {
              SecretArn:
                STEP_OUTPUTS['${{ steps.rds.output.masterSecretArn }}'],
            },
          },
        ],
      });
      secrets.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({
          username: 'mlflowadmin',
          password: 'x',
        }),
      });
      secrets
        .on(DescribeSecretCommand)
        .rejects(awsError('ResourceNotFoundException', 400));
      secrets.on(CreateSecretCommand).resolves({ ARN: 'arn:secret' });
      const step = yaml.parse(example).steps[0];
      const stepInput = Object.fromEntries(
        Object.entries(step.input).map(([k, v]) => [
          k,
          STEP_OUTPUTS[v as string] ?? v,
        ]),
      );
      const cluster = new FakeKubernetesApi();
      const sql = new FakeSqlClient();
      const action = createDatabaseCreateAction({
        aws: fakeAws,
        kubernetes: () => cluster,
        ...testTenancy(),
        connect: async () => sql,
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: stepInput,
      });
      await action.handler(ctx);
      expect(outputs.databaseName).toBe(
        stepInput.databaseName ??
          resolveInstanceNames({ name: stepInput.name }).databaseName,
      );
      // The database credentials, the sign-in Secret and the health-check login.
      expect(cluster.stored('Secret')).toHaveLength(3);
    },
  );
});
