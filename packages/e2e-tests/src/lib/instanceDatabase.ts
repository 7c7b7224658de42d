import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { readStackEnv } from '@internal/stack-env';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { Client } from 'pg';

/**
 * A superuser session on the stack's PostgreSQL (its `postgres` database), which stands in for
 * every RDS instance's server. The caller ends it.
 */
export async function stackSuperuser(): Promise<Client> {
  const env = readStackEnv();
  const client = new Client({
    host: env.pgHost,
    port: env.pgPort,
    user: env.pgUser,
    password: env.pgPassword,
    database: 'postgres',
  });
  await client.connect();
  return client;
}

/**
 * A superuser session on the database of an MLflow instance, on its RDS instance's own PostgreSQL
 * (the stack's superuser; its certificate is the stack CA's, not checked here: a test's own tool).
 */
export async function instanceDatabaseAsSuperuser(
  name: string,
): Promise<Client> {
  const env = readStackEnv();
  const names = resolveInstanceNames({ name });
  const { DBInstances } = await new RDSClient({ region: env.awsRegion }).send(
    new DescribeDBInstancesCommand({
      DBInstanceIdentifier: names.rdsInstanceId,
    }),
  );
  const endpoint = DBInstances?.[0]?.Endpoint;
  const client = new Client({
    host: endpoint?.Address,
    port: endpoint?.Port,
    user: env.pgUser,
    password: env.pgPassword,
    database: names.databaseName,
    ssl: { rejectUnauthorized: false },
  });
  await client.connect();
  return client;
}
