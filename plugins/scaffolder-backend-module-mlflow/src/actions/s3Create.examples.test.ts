import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { awsError, fakeAws } from '../__testUtils__/aws';
import { createS3CreateAction } from './s3Create';
import { examples } from './s3Create.examples';
import { testTenancy } from '../__testUtils__/tenancy';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);

describe('mlflow:s3:create examples', () => {
  const action = createS3CreateAction({ aws: fakeAws, ...testTenancy() });

  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      s3.reset();
      sts.reset();
      sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
      s3.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
      const step = yaml.parse(example).steps[0];
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs.bucket).toBe(step.input.bucket);
      expect(outputs.artifactRoot).toBe(
        `s3://${step.input.bucket}/${step.input.artifactPrefix ?? 'artifacts'}`,
      );
    },
  );
});
