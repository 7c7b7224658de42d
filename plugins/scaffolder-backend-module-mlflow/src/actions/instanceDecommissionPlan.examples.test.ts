import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import { testTenancy } from '../__testUtils__/tenancy';
import { createInstanceDecommissionPlanAction } from './instanceDecommissionPlan';
import { examples } from './instanceDecommissionPlan.examples';

const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const iam = mockClient(IAMClient);
const secrets = mockClient(SecretsManagerClient);

describe('mlflow:instance:planDecommission examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
      rds
        .on(DescribeDBInstancesCommand)
        .rejects(awsError('DBInstanceNotFoundFault', 404));
      s3.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
      iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 404));
      secrets
        .on(DescribeSecretCommand)
        .rejects(awsError('ResourceNotFoundException', 400));
      const step = yaml.parse(example).steps[0];
      const action = createInstanceDecommissionPlanAction({
        aws: fakeAws,
        clusters: new MlflowClusters([
          {
            name: 'prod-eu',
            url: 'https://prod-eu.example.com',
            skipTLSVerify: false,
          },
        ]),
        kubernetes: () => new FakeKubernetesApi(),
        authorization: testTenancy().authorization,
      });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs.entityRef).toBe(`component:default/${step.input.name}`);
    },
  );
});
