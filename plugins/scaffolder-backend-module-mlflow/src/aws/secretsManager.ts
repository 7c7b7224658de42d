import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { StepDeadline } from '../util/stepDeadline';
import { callAws, findAws } from './awsErrors';
import { AwsTag, isOursTagged } from './tags';

/** A PostgreSQL login read from a secret. */
export type PostgresLogin = { username: string; password: string };

/**
 * Reads the RDS managed master secret of `instanceId`; the error never echoes its value. Without
 * a secret (an instance created without ManageMasterUserPassword) the error says how to fix it.
 */
export async function readMasterLogin(
  secrets: SecretsManagerClient,
  secretArn: string | undefined,
  deadline?: StepDeadline,
  instanceId = 'the instance',
): Promise<PostgresLogin> {
  if (!secretArn) {
    throw new Error(
      `RDS instance ${instanceId} has no managed master secret (MasterUserSecret): turn on ManageMasterUserPassword for it, or pass masterSecretArn.`,
    );
  }
  const value = await callAws(
    'secretsmanager:GetSecretValue',
    'the RDS managed master secret',
    abortSignal =>
      secrets.send(new GetSecretValueCommand({ SecretId: secretArn }), {
        abortSignal,
      }),
    deadline,
  );
  try {
    const parsed = JSON.parse(value.SecretString ?? '');
    if (
      typeof parsed.username === 'string' &&
      typeof parsed.password === 'string'
    ) {
      return { username: parsed.username, password: parsed.password };
    }
  } catch {
    // Reported below without echoing the value.
  }
  throw new Error(
    'The RDS managed master secret does not hold a JSON object with username and password',
  );
}

/**
 * Creates the secret, or updates its value when it exists and carries the instance's tag; a secret
 * of that name made for anything else is refused (InputError naming `field`).
 *
 * @returns the secret's ARN
 */
export async function putInstanceSecret(
  secrets: SecretsManagerClient,
  options: {
    field: string;
    secretName: string;
    instance: string;
    description: string;
    value: string;
    tags: AwsTag[];
    logger: LoggerService;
  },
  deadline?: StepDeadline,
): Promise<string> {
  const { secretName, instance, logger } = options;
  const target = `secret "${secretName}"`;
  const existing = await findAws(
    'secretsmanager:DescribeSecret',
    target,
    ['ResourceNotFoundException'],
    abortSignal =>
      secrets.send(new DescribeSecretCommand({ SecretId: secretName }), {
        abortSignal,
      }),
    deadline,
  );
  if (existing) {
    if (!isOursTagged(existing.Tags, instance)) {
      throw new InputError(
        `Invalid ${options.field}: received "${secretName}", but that secret already exists and was not created for MLflow instance "${instance}". Choose another name.`,
      );
    }
    logger.info(`Updating Secrets Manager secret ${secretName}`);
    await callAws(
      'secretsmanager:PutSecretValue',
      target,
      abortSignal =>
        secrets.send(
          new PutSecretValueCommand({
            SecretId: secretName,
            SecretString: options.value,
          }),
          { abortSignal },
        ),
      deadline,
    );
    return existing.ARN ?? '';
  }
  logger.info(`Creating Secrets Manager secret ${secretName}`);
  const created = await callAws(
    'secretsmanager:CreateSecret',
    target,
    abortSignal =>
      secrets.send(
        new CreateSecretCommand({
          Name: secretName,
          Description: options.description,
          SecretString: options.value,
          Tags: options.tags,
        }),
        { abortSignal },
      ),
    deadline,
  );
  return created.ARN ?? '';
}

/** The value of a database credentials secret, in the shape RDS uses for its own secrets. */
export function databaseSecretValue(c: {
  host: string;
  port: number;
  databaseName: string;
  username: string;
  password: string;
}): string {
  return JSON.stringify({
    engine: 'postgres',
    host: c.host,
    port: c.port,
    dbname: c.databaseName,
    username: c.username,
    password: c.password,
  });
}
