import { InputError, isError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowInstanceIdentityKeys } from '@stateful-mlflow/plugin-mlflow-node';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun } from '../authorization/authorizeRun';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';
import { readClusterState } from '../kubernetes/clusterState';
import { validateDeployInput } from '../kubernetes/deployInput';
import { dryRunManifests } from '../kubernetes/dryRunManifests';
import {
  describeRef,
  KubernetesApiProvider,
  refOf,
} from '../kubernetes/kubernetesApi';
import { runMigrationJob } from '../kubernetes/migrationJob';
import {
  BACKEND_STORE_URI_KEY,
  manifestsInApplyOrder,
  renderMlflowManifests,
  SecretReaderSubject,
} from '../kubernetes/renderMlflowManifests';
import { waitForRollout } from '../kubernetes/rolloutWait';
import { StepWait } from '../kubernetes/stepWait';
import { writeManifests } from '../kubernetes/writeManifests';
import { ensureHealthUser, FetchLike } from '../tracking/healthUser';
import { readAuthState } from '../kubernetes/authState';
import {
  allowAnonymousAccessInput,
  clusterInput,
  environmentInput,
  hostnameInput,
  imageInput,
  nameInput,
  namespaceInput,
  ownerInput,
  serviceAccountNameInput,
  timeoutSecondsInput,
  tlsClusterIssuerInput,
  tlsSecretNameInput,
} from './inputProperties';
import { examples } from './kubernetesDeploy.examples';

/** The default names, spelled for any instance, for the field descriptions. */
const ANY_INSTANCE = resolveInstanceNames({ name: '<name>' });

/** Deploys an MLflow tracking server to a configured cluster with server-side apply. */
export function createKubernetesDeployAction(options: {
  kubernetes: KubernetesApiProvider;
  authorization: InstanceChangeAuthorizationDeps;
  guardRails: ProvisioningGuardRails;
  /** Signs the Deployment, so the catalog trusts the instance's owner and AWS identifiers. */
  identityKeys: MlflowInstanceIdentityKeys;
  /** Milliseconds between status polls while waiting; tests shorten it. */
  pollIntervalMs?: number;
  /** Who may read each instance's health Secret (mlflow.health.secretReader). */
  healthSecretReader?: SecretReaderSubject;
  /** Reaches the tracking server to create the health-check user; tests pass a fake. */
  fetch?: FetchLike;
}) {
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const fetchTracking: FetchLike = options.fetch ?? fetch;
  return createTemplateAction({
    id: 'mlflow:kubernetes:deploy',
    description:
      'Deploys an MLflow tracking server (stateless Deployment behind a Service and an Ingress, with its migration Job, PodDisruptionBudget and NetworkPolicy) by server-side apply, reading the backend store URI from the database Secret and serving artifacts from S3. Refuses ephemeral storage unless allowEphemeralStorage is set. Can also write the same manifests into the workspace for a GitOps repository.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        cluster: clusterInput,
        namespace: namespaceInput,
        image: imageInput,
        hostname: hostnameInput,
        tlsSecretName: tlsSecretNameInput,
        tlsClusterIssuer: tlsClusterIssuerInput,
        ingressClassName: z =>
          z
            .string()
            .optional()
            .describe("Ingress class; the cluster's default class when empty."),
        environment: environmentInput,
        replicas: z =>
          z
            .number()
            .int()
            .min(1)
            .max(20)
            .default(2)
            .describe('Server replicas; at least 2 in prod.'),
        workers: z =>
          z
            .number()
            .int()
            .min(1)
            .max(16)
            .default(2)
            .describe('Server worker processes per replica.'),
        serviceAccountName: serviceAccountNameInput,
        roleArn: z =>
          z
            .string()
            .optional()
            .describe(
              'IAM role of the server (output roleArn of mlflow:iam:createRole), set as the IRSA annotation.',
            ),
        region: z =>
          z
            .string()
            .optional()
            .describe(
              'AWS region of the bucket and database (AWS_REGION of the server).',
            ),
        awsAccountId: z =>
          z
            .string()
            .optional()
            .describe(
              'AWS account holding the database and bucket, when not the main account; recorded for the catalog and health checks.',
            ),
        owner: ownerInput,
        system: z =>
          z
            .string()
            .optional()
            .describe('System the instance is part of (an entity name).'),
        description: z =>
          z
            .string()
            .max(500)
            .optional()
            .describe('Description of the instance.'),
        rdsInstanceId: z =>
          z
            .string()
            .optional()
            .describe(
              'RDS instance identifier, recorded for the catalog and health checks; nothing is recorded when empty.',
            ),
        databaseName: z =>
          z
            .string()
            .optional()
            .describe('PostgreSQL database name, recorded for the catalog.'),
        databaseSecretName: z =>
          z
            .string()
            .optional()
            .describe(
              `Secret holding ${BACKEND_STORE_URI_KEY} (output secretName of mlflow:database:create); ${ANY_INSTANCE.databaseSecretName} when empty.`,
            ),
        artifactsDestination: z =>
          z
            .string()
            .describe(
              'Where the server stores artifacts: s3://bucket/prefix (output artifactRoot of mlflow:s3:create).',
            ),
        backendStoreUri: z =>
          z
            .string()
            .optional()
            .describe(
              'Only with allowEphemeralStorage: a sqlite:/// URI for a throw-away server. Real backend stores come from the database Secret, never inline.',
            ),
        allowEphemeralStorage: z =>
          z
            .boolean()
            .default(false)
            .describe(
              'Allow a sqlite backend store and a local artifact directory. Everything is lost when a pod restarts; for demonstrations only.',
            ),
        allowAnonymousAccess: allowAnonymousAccessInput,
        authSecretName: z =>
          z
            .string()
            .optional()
            .describe(
              `Secret of MLflow's sign-in (admin login, basic_auth.ini; output authSecretName of mlflow:database:create); ${ANY_INSTANCE.authSecretName} when empty.`,
            ),
        healthSecretName: z =>
          z
            .string()
            .optional()
            .describe(
              `Secret of the health-check user (output healthSecretName of mlflow:database:create); ${ANY_INSTANCE.healthSecretName} when empty.`,
            ),
        dbMaxConnections: z =>
          z
            .number()
            .int()
            .min(10)
            .max(10000)
            .default(100)
            .describe(
              'max_connections of the PostgreSQL instance; the connection pools are sized so that replicas × workers × pool stays below it.',
            ),
        cpuRequest: z =>
          z.string().default('250m').describe('CPU request per server pod.'),
        memoryRequest: z =>
          z
            .string()
            .default('512Mi')
            .describe('Memory request per server pod.'),
        memoryLimit: z =>
          z.string().default('1Gi').describe('Memory limit per server pod.'),
        proxyBodySize: z =>
          z
            .string()
            .default('5g')
            .describe(
              'Largest artifact upload through the Ingress (nginx syntax, e.g. 5g).',
            ),
        proxyTimeoutSeconds: z =>
          z
            .number()
            .int()
            .min(30)
            .max(3600)
            .default(600)
            .describe(
              'Ingress read and send timeout for long uploads and downloads, in seconds.',
            ),
        ingressControllerNamespace: z =>
          z
            .string()
            .default('ingress-nginx')
            .describe(
              'Namespace of the ingress controller, allowed in by the NetworkPolicy.',
            ),
        allowedClientNamespaces: z =>
          z
            .array(z.string())
            .default([])
            .describe(
              'Other namespaces whose pods may call the server directly through its Service.',
            ),
        extraEnv: z =>
          z
            .record(z.string())
            .default({})
            .describe(
              'Extra non-secret environment variables of the server, e.g. MLFLOW_S3_ENDPOINT_URL for an S3-compatible store.',
            ),
        runAsUser: z =>
          z
            .number()
            .int()
            .min(1)
            .default(1000)
            .describe('Non-root user id the server runs as.'),
        apply: z =>
          z
            .boolean()
            .default(true)
            .describe(
              'Apply to the cluster; false only renders (with manifestsPath for GitOps).',
            ),
        manifestsPath: z =>
          z
            .string()
            .optional()
            .describe(
              'Workspace-relative file to write the manifests to as YAML, e.g. manifests/mlflow.yaml, for publishing to a GitOps repository.',
            ),
        waitForRollout: z =>
          z
            .boolean()
            .default(true)
            .describe('Wait until every replica is updated and ready.'),
        timeoutSeconds: z => timeoutSecondsInput(z, 900),
      },
      output: {
        namespace: z => z.string().describe('Namespace of the instance.'),
        deployment: z => z.string().describe('Name of the server Deployment.'),
        serviceUrl: z =>
          z
            .string()
            .describe('In-cluster URL of the server, through its Service.'),
        trackingUrl: z =>
          z
            .string()
            .describe(
              'Public URL of the server (MLFLOW_TRACKING_URI for users).',
            ),
        manifestsPath: z =>
          z
            .string()
            .optional()
            .describe(
              'Workspace-relative path of the written manifests, when asked for.',
            ),
        authMode: z =>
          z
            .enum(['basic-auth', 'anonymous'])
            .describe(
              'basic-auth: users sign in (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD); anonymous: no sign-in.',
            ),
        authSecretName: z =>
          z
            .string()
            .optional()
            .describe(
              'With basic-auth: the Secret holding the admin login (its name only).',
            ),
      },
    },
    async handler(ctx) {
      const { input, logger } = ctx;
      const log = (message: string) => logger.info(message);
      const { manifestOptions, ephemeralReasons } = validateDeployInput(input);
      const { name, namespace, cluster, backendStore, auth } = manifestOptions;
      options.guardRails.checkImage(manifestOptions.image);
      options.guardRails.checkHostname(manifestOptions.hostname);
      // Resolving the cluster first turns an unknown cluster name into an InputError up front,
      // also when only the manifests are written (they name the cluster).
      const api = options.kubernetes(cluster, { signal: ctx.signal });
      if (ephemeralReasons.length > 0) {
        logger.warn(
          `!!! EPHEMERAL STORAGE for MLflow instance ${name}: ${ephemeralReasons.join(
            ' and ',
          )}. EVERY EXPERIMENT, RUN AND ARTIFACT IS LOST WHEN A POD RESTARTS, and each replica sees different data. Use this for demonstrations only, never for real work. !!!`,
        );
      }
      // Read and authorized before anything is written, also when only the manifests are: they
      // carry a signed identity.
      const databaseSecretName =
        backendStore.kind === 'secret' ? backendStore.secretName : undefined;
      const state = await readClusterState({
        api,
        name,
        namespace,
        objects: manifestsInApplyOrder(renderMlflowManifests(manifestOptions)),
        guardRails: options.guardRails,
        databaseSecretName,
        log,
      });
      const { owner } = await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        requestedOwner: input.owner,
        existing: state.existing,
        log,
      });
      const authState = await readAuthState({
        api,
        namespace,
        deploymentName: name,
        auth,
        read: input.apply,
      });
      const rendered = renderMlflowManifests({
        ...manifestOptions,
        owner,
        auth: authState.auth,
        healthSecretReader: options.healthSecretReader,
      });
      const manifests = {
        ...rendered,
        deployment: options.identityKeys.signDeployment(
          rendered.deployment,
          cluster,
        ),
      };
      const objects = manifestsInApplyOrder(manifests);
      const toApply = objects.filter(
        o => !(state.namespaceAdopted && o.kind === 'Namespace'),
      );

      if (input.manifestsPath) {
        await writeManifests({
          workspacePath: ctx.workspacePath,
          manifestsPath: input.manifestsPath,
          objects,
        });
        log(`Wrote ${objects.length} manifests to ${input.manifestsPath}`);
        ctx.output('manifestsPath', input.manifestsPath);
      }
      const outputs = () => {
        ctx.output('namespace', namespace);
        ctx.output('deployment', manifests.deployment.metadata!.name!);
        ctx.output('serviceUrl', manifests.serviceUrl);
        ctx.output('trackingUrl', manifests.trackingUrl);
        ctx.output('authMode', auth.mode);
        if (auth.mode === 'basic-auth') {
          ctx.output('authSecretName', auth.secretName);
        }
      };
      log(
        `Plan for MLflow instance ${name} on cluster ${cluster}: ${objects
          .map(o => describeRef(refOf(o)))
          .join(', ')}; ${input.replicas} replicas × ${
          input.workers
        } workers with a database pool of ${manifests.pool.size} (+${
          manifests.pool.maxOverflow
        }) each; tracking URL ${manifests.trackingUrl}; ${
          auth.mode === 'basic-auth'
            ? `sign-in required (MLflow basic-auth, admin login in Secret ${namespace}/${auth.secretName})`
            : 'NO SIGN-IN: anyone who reaches the tracking URL may read and change everything (allowAnonymousAccess)'
        }`,
      );
      if (authState.turningOn) {
        log(
          `Turning on sign-in for MLflow instance ${name}: it answered anonymous requests until now; after this rollout every request needs a login (the admin's is in Secret ${namespace}/${authState.secretName})`,
        );
      }
      if (!input.apply) {
        log('apply is false: nothing is sent to the cluster');
        outputs();
        return;
      }

      if (authState.secretMissing) {
        const missing = `The sign-in Secret ${namespace}/${authState.secretName} does not exist`;
        if (!ctx.isDryRun) {
          throw new InputError(
            `${missing}. Run mlflow:database:create for this instance first (it writes it), or give its authSecretName.`,
          );
        }
        log(
          `Dry-run: ${missing} yet; mlflow:database:create writes it before this step in a real run`,
        );
      }
      if (state.databaseSecretMissing) {
        const missing = `The database Secret ${namespace}/${databaseSecretName} does not exist`;
        if (!ctx.isDryRun) {
          throw new InputError(
            `${missing}. Run mlflow:database:create for this instance first (same cluster and namespace), or give its secretName as databaseSecretName.`,
          );
        }
        log(
          `Dry-run: ${missing} yet; mlflow:database:create writes it before this step in a real run`,
        );
      }
      if (ctx.isDryRun) {
        await dryRunManifests({
          api,
          cluster,
          objects: toApply,
          namespaceExists: state.namespaceExists,
          log,
        });
        outputs();
        return;
      }

      // One budget for every wait: timeoutSeconds bounds the whole step.
      const wait: StepWait = {
        deadline: Date.now() + input.timeoutSeconds * 1000,
        pollIntervalMs,
        logger,
        signal: ctx.signal,
      };
      for (const object of toApply) {
        const ref = refOf(object);
        const key = `mlflow:k8s:${cluster}:${namespace}:${ref.kind}:${ref.name}`;
        if (object === manifests.migrationJob) {
          await ctx.checkpoint({
            key: `${key}:complete`,
            fn: () => runMigrationJob({ api, job: object, cluster, wait }),
          });
          continue;
        }
        await ctx.checkpoint({
          key: `${key}:apply`,
          fn: async () => {
            log(`Applying ${describeRef(ref)} on cluster ${cluster}`);
            await api.apply(object, { dryRun: false });
          },
        });
      }
      if (input.waitForRollout) {
        await waitForRollout({ api, deployment: manifests.deployment, wait });
        if (auth.mode === 'basic-auth') {
          await ctx.checkpoint({
            key: `mlflow:k8s:${cluster}:${namespace}:health-user:${auth.healthSecretName}`,
            fn: async () => {
              const logins = await authState.logins();
              log(
                `Making sure the health-check user ${logins.health.username} exists (default permission, no admin) at ${manifests.trackingUrl}`,
              );
              try {
                const outcome = await ensureHealthUser({
                  trackingUrl: manifests.trackingUrl,
                  ...logins,
                  fetch: fetchTracking,
                  signal: ctx.signal,
                });
                log(`Health-check user ${logins.health.username} ${outcome}`);
              } catch (error) {
                logger.warn(
                  `Could not set up the health-check user: ${
                    isError(error) ? error.message : String(error)
                  }. Backstage's deep health check is refused until a rerun of this step reaches the tracking URL.`,
                );
              }
            },
          });
        }
      }
      outputs();
    },
  });
}
