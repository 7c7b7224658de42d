import { ConfigReader } from '@backstage/config';
import { readStackEnv } from '@internal/stack-env';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import {
  AwsClientConfigFactory,
  MlflowClusters,
} from '@stateful-mlflow/plugin-mlflow-node';
import { Client } from 'pg';
import { createDatabaseCreateAction } from '../actions/databaseCreate';
import { createRdsCreateAction } from '../actions/rdsCreate';
import {
  kubernetesApiFromClusters,
  MlflowKubernetesApi,
} from '../kubernetes/kubernetesApi';
import { createCheckpointingContext } from './createCheckpointingContext';
import { readDatabaseCaBundle } from '../moduleConfig';
import { loadStack } from './stack';
import { testTenancy } from './tenancy';

export const STACK_REGION = 'eu-west-1';

/**
 * What the database integration tests share: an RDS instance on the stack's moto (its own
 * PostgreSQL at its endpoint), the stack's cluster, and the database action wired to both as the
 * module wires it.
 */
export async function setUpDatabaseStack(name: string) {
  const stack = loadStack();
  const aws = AwsClientConfigFactory.fromConfig(new ConfigReader({}));
  const clusters = MlflowClusters.fromConfig(stack.config);
  const kube: MlflowKubernetesApi =
    kubernetesApiFromClusters(clusters)('local');
  // Each stack RDS instance is its own PostgreSQL with a certificate of the stack's CA.
  const caBundle = readDatabaseCaBundle(stack.config);
  const rds = createRdsCreateAction({
    aws,
    ...testTenancy(),
    pollIntervalMs: 200,
  });
  const run = createCheckpointingContext(rds, {
    input: { name, region: STACK_REGION, waitForAvailable: true },
  });
  await rds.handler(run.ctx);
  return {
    instanceId: run.outputs.instanceId as string,
    /** Where the instance's own PostgreSQL answers, and the CA its certificate is signed by. */
    endpoint: {
      host: run.outputs.endpoint as string,
      port: run.outputs.port as number,
      caBundle,
    },
    kube,
    databaseAction: (
      extra: Partial<Parameters<typeof createDatabaseCreateAction>[0]> = {},
    ) =>
      createDatabaseCreateAction({
        aws,
        kubernetes: () => kube,
        ...testTenancy(),
        caBundle,
        pollIntervalMs: 200,
        lockPollIntervalMs: 100,
        ...extra,
      }),
    /**
     * The stack's PostgreSQL superuser (every stack RDS instance has the shared cluster's admin
     * login) on the instance's maintenance database.
     */
    superuser: async (applicationName = 'stack-test') => {
      const env = readStackEnv();
      const client = new Client({
        host: run.outputs.endpoint as string,
        port: run.outputs.port as number,
        ssl: { ca: caBundle },
        user: env.pgUser,
        password: env.pgPassword,
        database: 'postgres',
        application_name: applicationName,
      });
      await client.connect();
      return client;
    },
    deleteNamespace: (namespace: string) =>
      KubernetesObjectApi.makeApiClient(clusters.kubeConfig('local'))
        .delete({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespace },
        })
        .catch(() => undefined),
  };
}

/** Polls `condition` until it holds; fails with `what` after the deadline. */
export async function eventually(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await condition()); ) {
    if (Date.now() > until) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}
