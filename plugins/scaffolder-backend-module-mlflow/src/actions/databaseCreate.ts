import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { RDSClient } from '@aws-sdk/client-rds';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { V1Namespace, V1Secret } from '@kubernetes/client-node';
import {
  LABEL_APP_INSTANCE,
  LABEL_APP_MANAGED_BY,
  LABEL_APP_PART_OF,
  MANAGED_BY_STATEFUL_MLFLOW,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { randomBytes } from 'node:crypto';
import { awsErrorName, callAws } from '../aws/awsErrors';
import { AwsClientConfigProvider } from '../aws/clients';
import { isOursTagged, mlflowTags } from '../aws/tags';
import {
  connectWithPg,
  explainPostgresError,
  assertOurs,
  inspectDatabase,
  provisionDatabase,
  SqlClient,
  SqlConnector,
  SslMode,
  sslOptions,
} from '../database/provisionDatabase';
import { KubernetesApiProvider } from '../kubernetes/kubernetesApi';
import { BACKEND_STORE_URI_KEY } from '../kubernetes/renderMlflowManifests';
import { waitFor } from '../util/waitFor';
import {
  accountIdInput,
  defaultDatabaseSecretName,
  defaultNamespace,
  environmentInput,
  nameInput,
  ownerInput,
  regionInput,
  tagsInput,
  timeoutSecondsInput,
} from './commonInputs';
import { describeDbInstance } from './rdsCreate';
import { examples } from './databaseCreate.examples';

/** Where to connect instead of the RDS endpoint (mlflow.database.connectionOverride). */
export type DatabaseConnectionOverride = {
  host: string;
  port: number;
  sslMode?: SslMode;
};

/** A password of 43 URL-safe characters (256 bits). */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/** The backend store URI MLflow reads, user and password URL-encoded. */
export function backendStoreUri(c: {
  username: string;
  password: string;
  host: string;
  port: number;
  databaseName: string;
  sslMode: SslMode;
}): string {
  return `postgresql://${encodeURIComponent(c.username)}:${encodeURIComponent(
    c.password,
  )}@${c.host}:${c.port}/${c.databaseName}?sslmode=${c.sslMode}`;
}

function parseMasterSecret(value: string | undefined): {
  username: string;
  password: string;
} {
  try {
    const parsed = JSON.parse(value ?? '');
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

/** Creates the MLflow database and its login role, and hands the credentials to the cluster. */
export function createDatabaseCreateAction(options: {
  aws: AwsClientConfigProvider;
  kubernetes: KubernetesApiProvider;
  connectionOverride?: DatabaseConnectionOverride;
  connect?: SqlConnector;
  /** Milliseconds between status polls while waiting; tests shorten it. */
  pollIntervalMs?: number;
}) {
  const connect = options.connect ?? connectWithPg;
  const pollIntervalMs = options.pollIntervalMs ?? 15_000;
  const override = options.connectionOverride;
  return createTemplateAction({
    id: 'mlflow:database:create',
    description:
      "Waits for the RDS instance, connects as its master user (credentials read from the RDS managed secret, never from inputs), creates the MLflow database owned by a dedicated login role with a generated password, shuts PUBLIC out of it, and stores the credentials only in a Kubernetes Secret in the instance's namespace (and optionally in Secrets Manager).",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        instanceId: z =>
          z
            .string()
            .optional()
            .describe('RDS DB instance identifier; mlflow-<name> when empty.'),
        masterSecretArn: z =>
          z
            .string()
            .optional()
            .describe(
              'ARN of the RDS managed master secret (output masterSecretArn of mlflow:rds:create); read from the instance when empty.',
            ),
        databaseName: z =>
          z
            .string()
            .default('mlflow')
            .describe(
              'Database to create: 1 to 63 lowercase letters, digits and underscores.',
            ),
        username: z =>
          z
            .string()
            .default('mlflow')
            .describe(
              'Login role of the tracking server; it owns the database.',
            ),
        cluster: z =>
          z
            .string()
            .describe(
              'Cluster (as configured under kubernetes.clusterLocatorMethods) where the credentials Secret goes.',
            ),
        namespace: z =>
          z
            .string()
            .optional()
            .describe(
              'Namespace of the instance; mlflow-<name> when empty. Created if missing.',
            ),
        secretName: z =>
          z
            .string()
            .optional()
            .describe(
              'Kubernetes Secret for the credentials; <name>-db when empty. Keys: MLFLOW_BACKEND_STORE_URI, PGUSER, PGPASSWORD, PGDATABASE, PGHOST, PGPORT.',
            ),
        storeInSecretsManager: z =>
          z
            .boolean()
            .default(false)
            .describe('Also store the credentials in AWS Secrets Manager.'),
        secretsManagerName: z =>
          z
            .string()
            .optional()
            .describe(
              'Name of that Secrets Manager secret; mlflow/<name>/database when empty.',
            ),
        system: z =>
          z
            .string()
            .optional()
            .describe('System of the instance, for the part-of label.'),
        environment: environmentInput,
        owner: ownerInput,
        tags: tagsInput,
        timeoutSeconds: z => timeoutSecondsInput(z, 1800),
      },
      output: {
        databaseName: z => z.string().describe('Name of the database.'),
        username: z =>
          z.string().describe('Login role of the tracking server.'),
        secretName: z =>
          z
            .string()
            .describe(
              'Kubernetes Secret holding the credentials (databaseSecretName of mlflow:kubernetes:deploy).',
            ),
        secretArn: z =>
          z
            .string()
            .optional()
            .describe('ARN of the Secrets Manager copy, when asked for.'),
        host: z => z.string().describe('Host the server connects to.'),
        port: z => z.number().describe('Port the server connects to.'),
      },
    },
    async handler(ctx) {
      const input = ctx.input;
      const name = validateName(nameRules.instanceName, 'name', input.name);
      const region = validateName(nameRules.awsRegion, 'region', input.region);
      const instanceId = validateName(
        nameRules.rdsInstanceIdentifier,
        'instanceId',
        input.instanceId || `mlflow-${name}`,
      );
      const databaseName = validateName(
        nameRules.postgresDatabaseName,
        'databaseName',
        input.databaseName,
      );
      const username = validateName(
        nameRules.postgresRoleName,
        'username',
        input.username,
      );
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        input.namespace || defaultNamespace(name),
      );
      const secretName = validateName(
        nameRules.kubernetesName,
        'secretName',
        input.secretName || defaultDatabaseSecretName(name),
      );
      const smName = input.secretsManagerName || `mlflow/${name}/database`;
      if (!/^[\w/+=.@-]{1,512}$/.test(smName)) {
        throw new InputError(
          `Invalid secretsManagerName: received ${JSON.stringify(
            smName,
          )}. Accepted: 1 to 512 letters, digits and / _ + = . @ -.`,
        );
      }
      if (
        input.masterSecretArn &&
        !/^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$/.test(
          input.masterSecretArn,
        )
      ) {
        throw new InputError(
          `Invalid masterSecretArn: received ${JSON.stringify(
            input.masterSecretArn,
          )}. Accepted: a Secrets Manager secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>.`,
        );
      }
      const kube = options.kubernetes(input.cluster);
      const labels: Record<string, string> = {
        [LABEL_APP_INSTANCE]: name,
        [LABEL_APP_MANAGED_BY]: MANAGED_BY_STATEFUL_MLFLOW,
        ...(input.system ? { [LABEL_APP_PART_OF]: input.system } : {}),
      };

      const config = await options.aws.forRegion({
        region,
        accountId: input.accountId,
      });
      const rds = new RDSClient(config);
      const secrets = new SecretsManagerClient(config);

      ctx.logger.info(`Looking up RDS instance ${instanceId}`);
      let instance = await describeDbInstance(rds, instanceId);
      if (!instance && !ctx.isDryRun) {
        throw new InputError(
          `Invalid instanceId: received "${instanceId}", but no such RDS instance exists in ${region}. Run mlflow:rds:create first.`,
        );
      }
      if (
        instance &&
        instance.DBInstanceStatus !== 'available' &&
        !ctx.isDryRun
      ) {
        instance = await waitFor({
          what: `RDS instance ${instanceId} to become available`,
          timeoutSeconds: input.timeoutSeconds,
          logger: ctx.logger,
          signal: ctx.signal,
          pollIntervalMs,
          check: async () => {
            const current = await describeDbInstance(rds, instanceId);
            return current?.DBInstanceStatus === 'available'
              ? { done: true, value: current }
              : {
                  done: false,
                  status: current?.DBInstanceStatus ?? 'not visible',
                };
          },
        });
      }
      const endpointHost = instance?.Endpoint?.Address;
      const endpointPort = instance?.Endpoint?.Port ?? 5432;
      const host = override?.host ?? endpointHost ?? `${instanceId}.dry-run`;
      const port = override?.port ?? endpointPort;
      // RDS forces TLS (rds.force_ssl=1), so a plain connection through an override fails closed.
      const sslMode: SslMode = override
        ? override.sslMode ?? 'disable'
        : 'require';
      if (override) {
        ctx.logger.info(
          `Connecting through mlflow.database.connectionOverride (${host}:${port}, sslmode=${sslMode}) instead of the RDS endpoint`,
        );
      }
      const masterSecretArn =
        input.masterSecretArn || instance?.MasterUserSecret?.SecretArn;

      const existingSecret = await kube.read<V1Secret>({
        apiVersion: 'v1',
        kind: 'Secret',
        name: secretName,
        namespace,
      });
      if (
        existingSecret &&
        existingSecret.metadata?.labels?.[LABEL_APP_MANAGED_BY] !==
          MANAGED_BY_STATEFUL_MLFLOW
      ) {
        throw new InputError(
          `Invalid secretName: received "${secretName}", but Secret ${namespace}/${secretName} already exists and is not managed by Backstage's MLflow actions. It is not overwritten: choose another secretName.`,
        );
      }
      const existingPassword = existingSecret?.data?.PGPASSWORD;
      const existingUser = existingSecret?.data?.PGUSER;
      // The Secret is the source of truth: a re-run or a recovered task keeps the password it holds.
      const password =
        existingPassword &&
        existingUser &&
        Buffer.from(existingUser, 'base64').toString() === username
          ? Buffer.from(existingPassword, 'base64').toString()
          : generatePassword();

      const target = `${host}:${port}`;
      const withMaster = async <T>(fn: (client: SqlClient) => Promise<T>) => {
        if (!masterSecretArn) {
          throw new Error(
            `RDS instance ${instanceId} has no managed master secret (MasterUserSecret): turn on ManageMasterUserPassword for it, or pass masterSecretArn.`,
          );
        }
        const value = await callAws(
          'secretsmanager:GetSecretValue',
          'the RDS managed master secret',
          () =>
            secrets.send(
              new GetSecretValueCommand({ SecretId: masterSecretArn }),
            ),
        );
        const master = parseMasterSecret(value.SecretString);
        let client: SqlClient;
        try {
          client = await connect({
            host,
            port,
            user: master.username,
            password: master.password,
            database: 'postgres',
            ssl: sslOptions(sslMode),
            connectionTimeoutMillis: 15_000,
          });
        } catch (error) {
          throw explainPostgresError(error, target);
        }
        try {
          return await fn(client);
        } catch (error) {
          throw error instanceof InputError
            ? error
            : explainPostgresError(error, target);
        } finally {
          await client.end().catch(() => undefined);
        }
      };

      ctx.logger.info(
        `Plan for database ${databaseName} on ${instanceId}: login role ${username} owning it with a generated password, CONNECT revoked from PUBLIC, credentials in Secret ${namespace}/${secretName} on cluster ${
          input.cluster
        }${
          input.storeInSecretsManager
            ? ` and in Secrets Manager as ${smName}`
            : ''
        }`,
      );

      const namespaceObject = await kube.read<V1Namespace>({
        apiVersion: 'v1',
        kind: 'Namespace',
        name: namespace,
      });
      const secretManifest = (secretPassword: string): V1Secret => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secretName, namespace, labels },
        type: 'Opaque',
        stringData: {
          [BACKEND_STORE_URI_KEY]: backendStoreUri({
            username,
            password: secretPassword,
            host,
            port,
            databaseName,
            sslMode,
          }),
          PGUSER: username,
          PGPASSWORD: secretPassword,
          PGDATABASE: databaseName,
          PGHOST: host,
          PGPORT: String(port),
          PGSSLMODE: sslMode,
        },
      });

      if (ctx.isDryRun) {
        if (namespaceObject) {
          // A placeholder password: not even a dry-run request carries a real one.
          await kube.apply(secretManifest('dry-run-placeholder'), {
            dryRun: true,
          });
          ctx.logger.info(
            `Dry-run: the cluster accepts Secret ${namespace}/${secretName}`,
          );
        }
        if (instance && instance.DBInstanceStatus === 'available') {
          ctx.logger.info(
            `Checking whether database ${databaseName} and role ${username} are free or ours`,
          );
          await withMaster(async client =>
            assertOurs(
              await inspectDatabase(client, databaseName, username),
              name,
              databaseName,
              username,
            ),
          );
        } else {
          ctx.logger.info(
            `RDS instance ${instanceId} is not available yet; skipping the database checks`,
          );
        }
        ctx.output('databaseName', databaseName);
        ctx.output('username', username);
        ctx.output('secretName', secretName);
        ctx.output('host', host);
        ctx.output('port', port);
        return;
      }

      if (!namespaceObject) {
        await ctx.checkpoint({
          key: `mlflow:database:${input.cluster}:${namespace}:namespace`,
          fn: async () => {
            ctx.logger.info(
              `Creating namespace ${namespace} on cluster ${input.cluster}`,
            );
            await kube.apply(
              {
                apiVersion: 'v1',
                kind: 'Namespace',
                metadata: { name: namespace, labels },
              },
              { dryRun: false },
            );
          },
        });
      }
      await ctx.checkpoint({
        key: `mlflow:database:${input.cluster}:${namespace}:secret:${secretName}`,
        fn: async () => {
          ctx.logger.info(
            `Storing the database credentials in Secret ${namespace}/${secretName}`,
          );
          await kube.apply(secretManifest(password), { dryRun: false });
        },
      });

      await ctx.checkpoint({
        key: `mlflow:database:${instanceId}:${databaseName}:${username}:provision`,
        fn: async () => {
          ctx.logger.info(
            `Creating role ${username} and database ${databaseName} on ${instanceId}`,
          );
          const reachable = await withMaster(client =>
            provisionDatabase(client, {
              instance: name,
              databaseName,
              username,
              password,
            }),
          );
          if (reachable.length > 0) {
            ctx.logger.warn(
              `Role ${username} can still connect to ${reachable.join(
                ', ',
              )}: their owners grant CONNECT to PUBLIC. Revoke it there if they hold anything private.`,
            );
          }
        },
      });

      if (input.storeInSecretsManager) {
        const secretArn = await ctx.checkpoint({
          key: `mlflow:database:secrets-manager:${smName}`,
          fn: async () => {
            const value = JSON.stringify({
              engine: 'postgres',
              host,
              port,
              dbname: databaseName,
              username,
              password,
            });
            const smTarget = `secret "${smName}"`;
            const existing = await secrets
              .send(new DescribeSecretCommand({ SecretId: smName }))
              .catch(error => {
                if (awsErrorName(error) === 'ResourceNotFoundException') {
                  return undefined;
                }
                return callAws('secretsmanager:DescribeSecret', smTarget, () =>
                  Promise.reject(error),
                );
              });
            if (existing) {
              if (!isOursTagged(existing.Tags, name)) {
                throw new InputError(
                  `Invalid secretsManagerName: received "${smName}", but that secret already exists and was not created for MLflow instance "${name}". Choose another name.`,
                );
              }
              ctx.logger.info(`Updating Secrets Manager secret ${smName}`);
              await callAws('secretsmanager:PutSecretValue', smTarget, () =>
                secrets.send(
                  new PutSecretValueCommand({
                    SecretId: smName,
                    SecretString: value,
                  }),
                ),
              );
              return existing.ARN ?? '';
            }
            ctx.logger.info(`Creating Secrets Manager secret ${smName}`);
            const created = await callAws(
              'secretsmanager:CreateSecret',
              smTarget,
              () =>
                secrets.send(
                  new CreateSecretCommand({
                    Name: smName,
                    Description: `Database credentials of MLflow instance ${name}`,
                    SecretString: value,
                    Tags: mlflowTags({
                      name,
                      owner: input.owner,
                      environment: input.environment,
                      extra: input.tags,
                    }),
                  }),
                ),
            );
            return created.ARN ?? '';
          },
        });
        ctx.output('secretArn', secretArn);
      }

      ctx.output('databaseName', databaseName);
      ctx.output('username', username);
      ctx.output('secretName', secretName);
      ctx.output('host', host);
      ctx.output('port', port);
    },
  });
}
