import { InputError, isError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
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
  manifestsInApplyOrder,
  renderMlflowManifests,
  SecretReaderSubject,
} from '../kubernetes/renderMlflowManifests';
import { waitForRollout } from '../kubernetes/rolloutWait';
import { StepWait } from '../kubernetes/stepWait';
import { writeManifests } from '../kubernetes/writeManifests';
import { ensureHealthUser, FetchLike } from '../tracking/healthUser';
import { readAuthState } from '../kubernetes/authState';
import { examples } from './kubernetesDeploy.examples';
import {
  kubernetesDeployInput,
  kubernetesDeployOutput,
} from './kubernetesDeploy.schema';

/**
 * Deploys an MLflow tracking server to a configured cluster with server-side apply.
 *
 * @public
 */
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
    schema: { input: kubernetesDeployInput, output: kubernetesDeployOutput },
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
        // Side by side unless a server of another image runs: an upgrade migrates the sign-in
        // database only after the tracking store succeeded.
        migrationsSideBySide:
          !state.runningImage || state.runningImage === input.image,
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
            fn: () =>
              runMigrationJob({ api, job: object, cluster, wait }).catch(
                (error: unknown) => {
                  throw withRestoreHint(error, {
                    snapshotId: input.preUpgradeSnapshotId,
                    rdsInstanceId: input.rdsInstanceId,
                    region: input.region,
                  });
                },
              ),
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
                log(
                  `Health-check user ${logins.health.username} ${
                    outcome === 'ready'
                      ? 'signs in and searches experiments'
                      : outcome
                  }`,
                );
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

/**
 * A failed migration names the snapshot taken before it and how to go back to it; the old pods
 * keep serving meanwhile (the Deployment is applied only after the Job succeeds).
 */
function withRestoreHint(
  error: unknown,
  options: { snapshotId?: string; rdsInstanceId?: string; region?: string },
): Error {
  const { snapshotId } = options;
  if (!isError(error) || !snapshotId) {
    return isError(error) ? error : new Error(String(error));
  }
  return Object.assign(
    new Error(
      `${
        error.message
      } The Deployment was not changed: the old pods keep serving. The data from before this upgrade is in RDS snapshot ${snapshotId}${
        options.rdsInstanceId ? ` of ${options.rdsInstanceId}` : ''
      }${
        options.region ? ` (${options.region})` : ''
      }. If the migration changed the schema part-way, go back by restoring that snapshot: aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${snapshotId} --db-instance-identifier <new id> (a new RDS instance holding the data from before), or decommission the instance (its bucket is retained) and create it again with the mlflow-production template's "Restore from snapshot" set to ${snapshotId}.`,
    ),
    { cause: error },
  );
}
