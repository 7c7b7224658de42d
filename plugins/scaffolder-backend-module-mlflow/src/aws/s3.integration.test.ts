import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ConfigReader } from '@backstage/config';
import { ActionContext } from '@backstage/plugin-scaffolder-node';
import { JsonObject } from '@backstage/types';
import { AwsClientConfigFactory } from '@stateful-mlflow/plugin-mlflow-node';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { readStackEnv } from '@internal/stack-env';
import { uniqueSuffix } from '../__testUtils__/stack';
import { createS3CreateAction } from '../actions/s3Create';
import { testTenancy } from '../__testUtils__/tenancy';

jest.setTimeout(120_000);

const REGION = 'eu-west-1';

/** Where the first run's process dies, relative to the bucket's creation. */
const crashes = {
  /** CreateBucket returned, but its checkpoint was never stored. */
  'after CreateBucket, before its checkpoint was stored': (key: string) =>
    key.endsWith(':create') ? 'after-fn' : undefined,
  /** The create checkpoint is stored; the process dies before tagging. */
  'between the create checkpoint and tagging': (key: string) =>
    key.endsWith(':tags') ? 'before-fn' : undefined,
} as const;

/** A context whose task dies at the checkpoint `crashAt` names, as a killed backend would. */
function crashingContext<I extends JsonObject, O extends JsonObject>(
  ctx: ActionContext<I, O>,
  crashAt: (key: string) => 'before-fn' | 'after-fn' | undefined,
): ActionContext<I, O> {
  const checkpoint: ActionContext<I, O>['checkpoint'] = async opts => {
    const crash = crashAt(opts.key);
    if (crash === 'after-fn') {
      await opts.fn();
    }
    if (crash) {
      throw new Error(`simulated crash at ${opts.key}`);
    }
    return ctx.checkpoint(opts);
  };
  return { ...ctx, checkpoint };
}

describe('mlflow:s3:create against the local stack (moto)', () => {
  let s3: S3Client;
  let action: ReturnType<typeof createS3CreateAction>;
  const aws = AwsClientConfigFactory.fromConfig(new ConfigReader({}));

  beforeAll(async () => {
    // Fails at once, naming what is missing, when the stack is not in the environment.
    readStackEnv();
    s3 = new S3Client(await aws.forRegion({ region: REGION }));
    action = createS3CreateAction({ aws, ...testTenancy() });
  });

  const tagsOf = async (bucket: string) =>
    s3
      .send(new GetBucketTaggingCommand({ Bucket: bucket }))
      .then(r => r.TagSet ?? [])
      .catch(() => []);

  it.each(Object.keys(crashes) as Array<keyof typeof crashes>)(
    'a crash %s leaves an untagged bucket that the recovered run adopts and tags',
    async crash => {
      const bucket = `it-crash-${uniqueSuffix()}`;
      const input = { name: `it-${uniqueSuffix()}`, bucket, region: REGION };
      const first = createCheckpointingContext(action, { input });
      await expect(
        action.handler(crashingContext(first.ctx, crashes[crash])),
      ).rejects.toThrow(/simulated crash/);
      expect(await tagsOf(bucket)).toEqual([]);

      const recovered = createCheckpointingContext(action, {
        input,
        store: first.store,
      });
      await action.handler(recovered.ctx);
      expect(recovered.logs.map(l => l.message).join('\n')).toMatch(
        /this task created it before it stopped, untagged and empty; adopt/,
      );
      expect(await tagsOf(bucket)).toEqual(
        expect.arrayContaining([
          { Key: 'stateful-mlflow/instance', Value: input.name },
        ]),
      );
    },
  );

  it('never adopts an untagged bucket it did not create: a new task, or one holding objects', async () => {
    const bucket = `it-foreign-${uniqueSuffix()}`;
    const input = { name: `it-${uniqueSuffix()}`, bucket, region: REGION };
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    const fresh = createCheckpointingContext(action, { input });
    await expect(action.handler(fresh.ctx)).rejects.toThrow(
      /already exists in this account and was not created for MLflow instance/,
    );
    expect(await tagsOf(bucket)).toEqual([]);

    // The task that did create a bucket refuses it once something was written into it.
    const own = `it-written-${uniqueSuffix()}`;
    const ownInput = { ...input, bucket: own };
    const first = createCheckpointingContext(action, { input: ownInput });
    await expect(
      action.handler(
        crashingContext(
          first.ctx,
          crashes['between the create checkpoint and tagging'],
        ),
      ),
    ).rejects.toThrow(/simulated crash/);
    await s3.send(
      new PutObjectCommand({ Bucket: own, Key: 'someone/else', Body: 'x' }),
    );
    const recovered = createCheckpointingContext(action, {
      input: ownInput,
      store: first.store,
    });
    await expect(action.handler(recovered.ctx)).rejects.toThrow(
      /not created for MLflow instance/,
    );
    expect(await tagsOf(own)).toEqual([]);
  });
});
