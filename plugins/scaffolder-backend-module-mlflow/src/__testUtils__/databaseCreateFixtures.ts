import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { V1Secret } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientConfig } from 'pg';
import { createDatabaseCreateAction } from '../actionFactories';
import { fakeAws } from './aws';
import { FakeKubernetesApi } from './FakeKubernetesApi';
import { FakeSqlClient } from './FakeSqlClient';
import { testTenancy } from './tenancy';

/*
 * What the unit tests of mlflow:database:create share: RDS and Secrets Manager mocked with
 * aws-sdk-client-mock, the RDS instance mlflow-demo of the MLflow instance demo, and the action
 * wired to a fake cluster and a fake PostgreSQL.
 */

export const rds = mockClient(RDSClient);
export const secrets = mockClient(SecretsManagerClient);

export const MASTER_PASSWORD = 'master-Pa55word-from-rds';
const MASTER_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-abc';
export const instance = {
  DBInstanceIdentifier: 'mlflow-demo',
  DBInstanceStatus: 'available',
  Endpoint: {
    Address: 'mlflow-demo.abc.eu-west-1.rds.amazonaws.com',
    Port: 5432,
  },
  MasterUserSecret: { SecretArn: MASTER_SECRET_ARN },
  TagList: [{ Key: 'stateful-mlflow/instance', Value: 'demo' }],
};
export const input = { name: 'demo', region: 'eu-west-1', cluster: 'local' };

/** The decoded values of the Secret `name` in the namespace mlflow-demo. */
export function secretValues(cluster: FakeKubernetesApi, name = 'demo-db') {
  const secret = cluster.objects.get(`Secret/mlflow-demo/${name}`) as V1Secret;
  return Object.fromEntries(
    Object.entries(secret.data!).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString(),
    ]),
  );
}

/** Resets the mocks: the instance is available and its master secret holds the master login. */
export function mockAvailableInstance() {
  rds.reset();
  secrets.reset();
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance] });
  secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({
      username: 'mlflowadmin',
      password: MASTER_PASSWORD,
    }),
  });
}

/**
 * The action on `cluster`, connecting to `sql` (each connection's config recorded in
 * `connections`), with `extra` options on top.
 */
export function databaseCreateAction(
  fakes: {
    cluster: FakeKubernetesApi;
    sql: FakeSqlClient;
    connections: ClientConfig[];
  },
  extra: Partial<Parameters<typeof createDatabaseCreateAction>[0]> = {},
) {
  const { cluster, sql, connections } = fakes;
  return createDatabaseCreateAction({
    aws: fakeAws,
    kubernetes: () => cluster,
    ...testTenancy(),
    connect: async config => {
      connections.push(config);
      // The sign-in database is reached on its own session of the same server.
      return config.database === 'postgres' ? sql : new FakeSqlClient(sql);
    },
    pollIntervalMs: 1,
    ...extra,
  });
}
