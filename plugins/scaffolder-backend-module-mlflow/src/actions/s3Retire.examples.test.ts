import {
  DeleteBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { fakeAws } from '../__testUtils__/aws';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { MOCK_USER, testTenancy } from '../__testUtils__/tenancy';
import { createS3RetireAction } from './s3Retire';
import { examples } from './s3Retire.examples';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);

describe('mlflow:s3:retire examples', () => {
  it.each(examples.map(e => [e.description, e.example]))(
    '%s',
    async (_description, example) => {
      s3.reset();
      sts.reset();
      sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
      const step = yaml.parse(example).steps[0];
      s3.on(HeadBucketCommand).resolves({});
      s3.on(GetBucketTaggingCommand).resolves({
        TagSet: [
          { Key: 'stateful-mlflow/instance', Value: step.input.name },
          { Key: 'owner', Value: MOCK_USER },
        ],
      });
      s3.on(PutBucketTaggingCommand).resolves({});
      s3.on(ListObjectVersionsCommand).resolves({});
      s3.on(DeleteBucketCommand).resolves({});
      const action = createS3RetireAction({ aws: fakeAws, ...testTenancy() });
      const { ctx, outputs } = createCheckpointingContext(action, {
        input: step.input,
      });
      await action.handler(ctx);
      expect(outputs.bucket).toBe(resolveInstanceNames(step.input).bucket);
      expect(outputs.retained).toBe(!step.input.deleteBucket);
      expect(s3.commandCalls(DeleteBucketCommand)).toHaveLength(
        step.input.deleteBucket ? 1 : 0,
      );
    },
  );
});
