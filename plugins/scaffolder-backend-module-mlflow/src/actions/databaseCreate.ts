import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  LABEL_APP_INSTANCE,
  LABEL_APP_MANAGED_BY,
  LABEL_APP_PART_OF,
  MANAGED_BY_STATEFUL_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import { AwsClientConfigProvider } from '../aws/clients';
import { awaitOwnRdsInstance } from '../aws/ownRdsInstance';
import {
  databaseSecretValue,
  putInstanceSecret,
  readMasterLogin,
} from '../aws/secretsManager';
import { mlflowTags } from '../aws/tags';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun, ExistingResource } from '../authorization/authorizeRun';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';
import { logConnectionSecurity } from '../database/connectionSecurity';
import {
  instanceNamespaceManifest,
  readDatabaseNamespaceState,
} from '../kubernetes/databaseNamespaceState';
import {
  DatabaseConnectionOverride,
  databaseEndpoint,
  describeDatabasePlan,
  masterConnectionConfig,
  planDatabase,
} from '../database/databasePlan';
import { LockedMasterSession } from '../database/lockedMasterSession';
import {
  connectWithPg,
  openPostgres,
  SqlClient,
  sslOptions,
  SqlConnector,
  withPostgres,
} from '../database/postgresConnection';
import {
  assertDatabaseFreeOrOurs,
  generatePassword,
  provisionDatabase,
} from '../database/provisionDatabase';
import {
  databaseSecretManifest,
  readDatabaseSecret,
} from '../kubernetes/databaseSecret';
import { writeAuthSecrets } from '../kubernetes/authSecrets';
import { resetAuthLoginsAsOwner } from '../database/authLogins';
import { adoptRestoredDatabases } from '../database/adoptRestoredDatabases';
import {
  assertAuthDatabaseFreeOrOurs,
  provisionAuthDatabase,
} from '../database/provisionAuthDatabase';
import { KubernetesApiProvider } from '../kubernetes/kubernetesApi';
import { StepDeadline } from '../util/stepDeadline';
import {
  databaseCreateInput,
  databaseCreateOutput,
} from './databaseCreate.schema';
import { examples } from './databaseCreate.examples';

/**
 * Creates the MLflow database and its login role, and hands the credentials to the cluster.
 *
 * @public
 */
export function createDatabaseCreateAction(options: {
  aws: AwsClientConfigProvider;
  kubernetes: KubernetesApiProvider;
  authorization: InstanceChangeAuthorizationDeps;
  guardRails: ProvisioningGuardRails;
  connectionOverride?: DatabaseConnectionOverride;
  connect?: SqlConnector;
  /** Milliseconds between status polls while waiting; tests shorten it. */
  pollIntervalMs?: number;
  /** Milliseconds between tries of the instance's lock while another run holds it. */
  lockPollIntervalMs?: number;
  /** Longest time one AWS call or SQL statement may take; the step's timeoutSeconds bounds it too. */
  callTimeoutMs?: number;
  /** PEM bundle the RDS certificate is verified against (mlflow.database.caBundlePath). */
  caBundle?: string;
}) {
  const connect = options.connect ?? connectWithPg;
  const pollIntervalMs = options.pollIntervalMs ?? 15_000;
  const lockPollIntervalMs = options.lockPollIntervalMs ?? 2_000;
  const override = options.connectionOverride;
  return createTemplateAction({
    id: 'mlflow:database:create',
    description:
      "Waits for the RDS instance, connects as its master user (credentials read from the RDS managed secret, never from inputs), creates the MLflow database owned by a dedicated login role with a generated password, shuts PUBLIC out of it, and stores the credentials only in a Kubernetes Secret in the instance's namespace (and optionally in Secrets Manager). One run per instance at a time: a second run waits for the first.",
    examples,
    supportsDryRun: true,
    schema: { input: databaseCreateInput, output: databaseCreateOutput },
    async handler(ctx) {
      const input = ctx.input;
      const plan = planDatabase(input);
      const { name, instanceId, databaseName, username } = plan;
      const { namespace, secretName, secretsManagerName: smName } = plan;
      const { authDatabaseName, authSecretName, healthSecretName } = plan;
      const kube = options.kubernetes(input.cluster);
      const labels: Record<string, string> = {
        [LABEL_APP_INSTANCE]: name,
        [LABEL_APP_MANAGED_BY]: MANAGED_BY_STATEFUL_MLFLOW,
        ...(input.system ? { [LABEL_APP_PART_OF]: input.system } : {}),
      };
      const deadline = new StepDeadline({
        timeoutSeconds: input.timeoutSeconds,
        signal: ctx.signal,
        callTimeoutMs: options.callTimeoutMs,
      });

      const config = await options.aws.forRegion({
        region: plan.region,
        accountId: input.accountId,
      });
      const rds = new RDSClient(config);
      const secrets = new SecretsManagerClient(config);

      const { instance, identity: rdsIdentity } = await awaitOwnRdsInstance({
        rds,
        name,
        instanceId,
        region: plan.region,
        masterSecretArn: plan.masterSecretArn || undefined,
        dryRun: ctx.isDryRun,
        timeoutSeconds: input.timeoutSeconds,
        logger: ctx.logger,
        signal: ctx.signal,
        pollIntervalMs,
        deadline,
      });
      const secretRef = { namespace, secretName, field: 'secretName' };
      const { namespaceObject, namespaceIdentity } =
        await readDatabaseNamespaceState({
          kube,
          name,
          namespace,
          guardRails: options.guardRails,
          databaseSecret: secretRef,
          secretNames: [secretName, authSecretName, healthSecretName],
        });
      const existing: ExistingResource[] = rdsIdentity
        ? [{ resource: `RDS instance ${instanceId}`, owner: rdsIdentity.owner }]
        : [];
      if (namespaceIdentity?.kind === 'ours') {
        existing.push({
          resource: `namespace ${namespace}`,
          owner: namespaceIdentity.owner,
        });
      }
      const { owner } = await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        requestedOwner: input.owner,
        existing,
        log: message => ctx.logger.info(message),
      });
      const endpoint = databaseEndpoint(instanceId, instance, override);
      const { host, port } = endpoint;
      logConnectionSecurity({
        endpoint,
        overridden: Boolean(override),
        caBundle: options.caBundle,
        logger: ctx.logger,
      });
      const masterSecretArn =
        plan.masterSecretArn || instance?.MasterUserSecret?.SecretArn;
      const ownership = { instance: name, databaseName, username };
      const authOwnership = { instance: name, authDatabaseName, username };
      const assertBothFreeOrOurs = async (client: SqlClient) => {
        await assertDatabaseFreeOrOurs(client, ownership);
        await assertAuthDatabaseFreeOrOurs(client, authOwnership);
      };

      const masterConnection = async () =>
        masterConnectionConfig(
          endpoint,
          await readMasterLogin(secrets, masterSecretArn, deadline, instanceId),
          options.caBundle,
        );

      ctx.logger.info(
        describeDatabasePlan(plan, {
          cluster: input.cluster,
          storeInSecretsManager: input.storeInSecretsManager,
        }),
      );

      const secretManifest = (password: string) =>
        databaseSecretManifest({
          secretName,
          namespace,
          labels,
          credentials: {
            ...endpoint,
            username,
            password,
            databaseName,
            authDatabaseName,
          },
        });
      const outputs = () => {
        ctx.output('databaseName', databaseName);
        ctx.output('username', username);
        ctx.output('secretName', secretName);
        ctx.output('host', host);
        ctx.output('port', port);
        ctx.output('authDatabaseName', authDatabaseName);
        ctx.output('authSecretName', authSecretName);
        ctx.output('healthSecretName', healthSecretName);
      };

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
        if (instance?.DBInstanceStatus === 'available') {
          ctx.logger.info(
            `Checking whether databases ${databaseName} and ${authDatabaseName} and role ${username} are free or ours`,
          );
          await withPostgres(
            connect,
            await masterConnection(),
            deadline,
            assertBothFreeOrOurs,
          );
        } else {
          ctx.logger.info(
            `RDS instance ${instanceId} is not available yet; skipping the database checks`,
          );
        }
        outputs();
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
              instanceNamespaceManifest({ namespace, labels, owner }),
              { dryRun: false },
            );
          },
        });
      }

      const session = new LockedMasterSession({
        instance: name,
        target: `${host}:${port}`,
        connect: async () =>
          openPostgres(connect, await masterConnection(), deadline),
        // The Secret is the source of truth: a rerun or a recovered task keeps the password it holds.
        decidePassword: async () => {
          const current = await readDatabaseSecret(kube, secretRef);
          return current?.username === username && current.password
            ? current.password
            : generatePassword();
        },
        logger: ctx.logger,
        signal: ctx.signal,
        deadline,
        lockPollIntervalMs,
      });
      try {
        await ctx.checkpoint({
          key: `mlflow:database:${input.cluster}:${namespace}:secret:${secretName}`,
          fn: async () => {
            // A database or role of someone else is refused before its password lands anywhere.
            await session.use(assertBothFreeOrOurs);
            const password = await session.password();
            ctx.logger.info(
              `Storing the database credentials in Secret ${namespace}/${secretName}`,
            );
            await kube.apply(secretManifest(password), { dryRun: false });
          },
        });
        await ctx.checkpoint({
          key: `mlflow:database:${instanceId}:${databaseName}:${username}:provision`,
          fn: () =>
            session.use(async (client, password) => {
              await adoptRestoredDatabases(client, {
                ...ownership,
                authDatabaseName,
                source: rdsIdentity?.restoredFrom ?? name,
                log: message => ctx.logger.info(message),
              });
              ctx.logger.info(
                `Creating role ${username} and database ${databaseName} on ${instanceId}`,
              );
              const reachable = await provisionDatabase(client, {
                ...ownership,
                password,
              });
              if (reachable.length > 0) {
                ctx.logger.warn(
                  `Role ${username} can still connect to ${reachable.join(
                    ', ',
                  )}: their owners grant CONNECT to PUBLIC. Revoke it there if they hold anything private.`,
                );
              }
            }),
        });
        await ctx.checkpoint({
          key: `mlflow:database:${instanceId}:${authDatabaseName}:${username}:auth-provision`,
          fn: () =>
            session.use(async client => {
              ctx.logger.info(
                `Creating MLflow's sign-in database ${authDatabaseName} owned by ${username} on ${instanceId}`,
              );
              await provisionAuthDatabase(client, authOwnership);
            }),
        });
        await ctx.checkpoint({
          key: `mlflow:database:${input.cluster}:${namespace}:auth-secrets:${authSecretName}:${healthSecretName}`,
          fn: async () => {
            // Opening the session takes the instance's lock: two runs never generate two
            // different admin passwords.
            const password = await session.password();
            const logins = await writeAuthSecrets({
              kube,
              namespace,
              labels,
              authSecretName,
              healthSecretName,
              authDatabase: {
                ...endpoint,
                username,
                databaseName: authDatabaseName,
              },
              defaultPermission: input.defaultPermission,
              log: message => ctx.logger.info(message),
            });
            await resetAuthLoginsAsOwner({
              connect,
              config: {
                ...masterConnectionConfig(endpoint, { username, password }),
                database: authDatabaseName,
                ssl: sslOptions(endpoint.connectSslMode, options.caBundle),
              },
              logins,
              deadline,
              log: message => ctx.logger.info(message),
            });
          },
        });
        if (input.storeInSecretsManager) {
          const secretArn = await ctx.checkpoint({
            key: `mlflow:database:secrets-manager:${smName}`,
            fn: async () =>
              putInstanceSecret(
                secrets,
                {
                  field: 'secretsManagerName',
                  secretName: smName,
                  instance: name,
                  description: `Database credentials of MLflow instance ${name}`,
                  value: databaseSecretValue({
                    ...endpoint,
                    databaseName,
                    username,
                    password: await session.password(),
                  }),
                  tags: mlflowTags({
                    name,
                    owner,
                    environment: input.environment,
                    extra: input.tags,
                  }),
                  logger: ctx.logger,
                },
                deadline,
              ),
          });
          ctx.output('secretArn', secretArn);
        }
      } finally {
        await session.close();
      }
      outputs();
    },
  });
}
