import { DBInstance } from '@aws-sdk/client-rds';
import {
  nameRules,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { ClientConfig } from 'pg';
import type { PostgresLogin } from '../aws/secretsManager';
import { sslOptions, SslMode } from './postgresConnection';

/**
 * Where to connect instead of the RDS endpoint (mlflow.database.connectionOverride).
 *
 * @public
 */
export type DatabaseConnectionOverride = {
  host: string;
  port: number;
  sslMode?: SslMode;
};

/** What a caller asks of the database (the inputs of mlflow:database:create). */
export type DatabaseRequest = {
  name: string;
  region: string;
  instanceId?: string;
  masterSecretArn?: string;
  databaseName?: string;
  username?: string;
  namespace?: string;
  secretName?: string;
  secretsManagerName?: string;
  authDatabaseName?: string;
  authSecretName?: string;
  healthSecretName?: string;
};

/** The validated names of the database step, defaults from the instance's name resolver. */
export type DatabasePlan = {
  name: string;
  region: string;
  instanceId: string;
  masterSecretArn?: string;
  databaseName: string;
  username: string;
  namespace: string;
  secretName: string;
  secretsManagerName: string;
  authDatabaseName: string;
  authSecretName: string;
  healthSecretName: string;
};

/** Validates the request; InputErrors name the field, the value and the rule. */
export function planDatabase(request: DatabaseRequest): DatabasePlan {
  const name = validateName(nameRules.instanceName, 'name', request.name);
  const names = resolveInstanceNames({
    name,
    rdsInstanceId: request.instanceId,
    databaseName: request.databaseName,
    databaseUsername: request.username,
    namespace: request.namespace,
    databaseSecretName: request.secretName,
    secretsManagerName: request.secretsManagerName,
    authDatabaseName: request.authDatabaseName,
    authSecretName: request.authSecretName,
    healthSecretName: request.healthSecretName,
  });
  return {
    name,
    region: validateName(nameRules.awsRegion, 'region', request.region),
    instanceId: validateName(
      nameRules.rdsInstanceIdentifier,
      'instanceId',
      names.rdsInstanceId,
    ),
    masterSecretArn: request.masterSecretArn
      ? validateName(
          nameRules.secretsManagerArn,
          'masterSecretArn',
          request.masterSecretArn,
        )
      : undefined,
    databaseName: validateName(
      nameRules.postgresDatabaseName,
      'databaseName',
      names.databaseName,
    ),
    username: validateName(
      nameRules.postgresRoleName,
      'username',
      names.databaseUsername,
    ),
    namespace: validateName(
      nameRules.kubernetesNamespace,
      'namespace',
      names.namespace,
    ),
    secretName: validateName(
      nameRules.kubernetesName,
      'secretName',
      names.databaseSecretName,
    ),
    secretsManagerName: validateName(
      nameRules.secretsManagerName,
      'secretsManagerName',
      names.secretsManagerName,
    ),
    authDatabaseName: validateName(
      nameRules.postgresDatabaseName,
      'authDatabaseName',
      names.authDatabaseName,
    ),
    authSecretName: validateName(
      nameRules.kubernetesName,
      'authSecretName',
      names.authSecretName,
    ),
    healthSecretName: validateName(
      nameRules.kubernetesName,
      'healthSecretName',
      names.healthSecretName,
    ),
  };
}

/**
 * Where the server and the step reach PostgreSQL: the override, or the instance's endpoint.
 * `sslMode` is the server's (in its URI); `connectSslMode` the step's own connection.
 */
export type DatabaseEndpoint = {
  host: string;
  port: number;
  sslMode: SslMode;
  connectSslMode: SslMode;
};

export function databaseEndpoint(
  instanceId: string,
  instance: DBInstance | undefined,
  override: DatabaseConnectionOverride | undefined,
): DatabaseEndpoint {
  return {
    host:
      override?.host ?? instance?.Endpoint?.Address ?? `${instanceId}.dry-run`,
    port: override?.port ?? instance?.Endpoint?.Port ?? 5432,
    // RDS forces TLS (rds.force_ssl=1), so a plain connection through an override fails closed.
    sslMode: override ? override.sslMode ?? 'disable' : 'require',
    // The master session is verified: an unverified one could hand its password to anyone.
    connectSslMode: override ? override.sslMode ?? 'disable' : 'verify-full',
  };
}

/** The connection of the master user to the server's maintenance database. */
export function masterConnectionConfig(
  endpoint: DatabaseEndpoint,
  login: PostgresLogin,
  caBundle?: string,
): ClientConfig {
  return {
    host: endpoint.host,
    port: endpoint.port,
    user: login.username,
    password: login.password,
    database: 'postgres',
    ssl: sslOptions(endpoint.connectSslMode, caBundle),
  };
}

/** The plan in one log line. */
export function describeDatabasePlan(
  plan: DatabasePlan,
  options: { cluster: string; storeInSecretsManager: boolean },
): string {
  const copy = options.storeInSecretsManager
    ? ` and in Secrets Manager as ${plan.secretsManagerName}`
    : '';
  return `Plan for database ${plan.databaseName} on ${plan.instanceId}: login role ${plan.username} owning it with a generated password, CONNECT revoked from PUBLIC, credentials in Secret ${plan.namespace}/${plan.secretName} on cluster ${options.cluster}${copy}; MLflow's sign-in database ${plan.authDatabaseName} beside it, its admin login in Secret ${plan.namespace}/${plan.authSecretName} and the health-check login in Secret ${plan.namespace}/${plan.healthSecretName}`;
}
