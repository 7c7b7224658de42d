import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  dumpYaml,
  KubernetesObject,
  V1Deployment,
  V1Job,
  V1Pod,
} from '@kubernetes/client-node';
import {
  describeReceived,
  LABEL_APP_MANAGED_BY,
  MANAGED_BY_STATEFUL_MLFLOW,
  nameRules,
  parseS3Uri,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  describeRef,
  KubernetesApiProvider,
  MlflowKubernetesApi,
  refOf,
} from '../kubernetes/kubernetesApi';
import {
  BackendStore,
  manifestsInApplyOrder,
  MlflowManifests,
  renderMlflowManifests,
  sizeConnectionPools,
} from '../kubernetes/renderMlflowManifests';
import { waitFor } from '../util/waitFor';
import {
  DEFAULT_SERVICE_ACCOUNT,
  defaultDatabaseSecretName,
  defaultNamespace,
  environmentInput,
  nameInput,
  ownerInput,
  timeoutSecondsInput,
} from './commonInputs';
import { examples } from './kubernetesDeploy.examples';

/** The hint every failed migration carries: the most common cause by far. */
export const IMAGE_HINT =
  "The image must contain psycopg2 and boto3 (the plain upstream MLflow image lacks them; with SQLAlchemy 2.1 or later postgresql:// URIs use psycopg 3, so add it too): build one FROM it with `pip install psycopg2-binary 'psycopg[binary]' boto3`.";

const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_LIKE_ENV =
  /(SECRET|PASSWORD|TOKEN|ACCESS_KEY|PRIVATE|CREDENTIAL)/i;

function invalid(field: string, value: unknown, accepted: string): never {
  throw new InputError(
    `Invalid ${field}: received ${describeReceived(
      value,
    )}. Accepted: ${accepted}.`,
  );
}

function isEphemeralStoreUri(uri: string) {
  return /^(sqlite:|file:)/.test(uri);
}

function isLocalPath(uri: string) {
  return uri.startsWith('/') || uri.startsWith('file:');
}

/** Deploys an MLflow tracking server to a configured cluster with server-side apply. */
export function createKubernetesDeployAction(options: {
  kubernetes: KubernetesApiProvider;
  /** Milliseconds between status polls while waiting; tests shorten it. */
  pollIntervalMs?: number;
}) {
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  return createTemplateAction({
    id: 'mlflow:kubernetes:deploy',
    description:
      'Deploys an MLflow tracking server (stateless Deployment behind a Service and an Ingress, with its migration Job, PodDisruptionBudget and NetworkPolicy) by server-side apply, reading the backend store URI from the database Secret and serving artifacts from S3. Refuses ephemeral storage unless allowEphemeralStorage is set. Can also write the same manifests into the workspace for a GitOps repository.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        cluster: z =>
          z
            .string()
            .describe(
              'Name of the target cluster as configured under kubernetes.clusterLocatorMethods.',
            ),
        namespace: z =>
          z
            .string()
            .optional()
            .describe(
              'Namespace of the instance; mlflow-<name> when empty. Created if missing; an existing one is used as is.',
            ),
        image: z =>
          z
            .string()
            .describe(
              'MLflow server image. It must contain psycopg2 and boto3; the plain upstream image lacks them.',
            ),
        hostname: z =>
          z
            .string()
            .describe(
              'Public host name of the Ingress, e.g. mlflow.example.com.',
            ),
        tlsSecretName: z =>
          z
            .string()
            .optional()
            .describe(
              'Secret with the TLS certificate for the hostname; the tracking URL is https when set, http otherwise.',
            ),
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
        serviceAccountName: z =>
          z
            .string()
            .default(DEFAULT_SERVICE_ACCOUNT)
            .describe('ServiceAccount of the server (the IAM role trusts it).'),
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
              'RDS instance identifier, recorded for the catalog and health checks.',
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
              'Secret holding MLFLOW_BACKEND_STORE_URI (output secretName of mlflow:database:create); <name>-db when empty.',
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
      },
    },
    async handler(ctx) {
      const input = ctx.input;
      const name = validateName(nameRules.instanceName, 'name', input.name);
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        input.namespace || defaultNamespace(name),
      );
      const cluster = input.cluster;
      // Resolving the cluster first turns an unknown cluster name into an InputError up front,
      // also when only the manifests are written (they name the cluster).
      const clusterApi = options.kubernetes(cluster);
      const api = input.apply ? clusterApi : undefined;
      const image = validateName(
        nameRules.containerImage,
        'image',
        input.image,
      );
      const hostname = validateName(
        nameRules.hostname,
        'hostname',
        input.hostname,
      );
      for (const [field, value] of [
        ['tlsSecretName', input.tlsSecretName],
        ['ingressClassName', input.ingressClassName],
        ['serviceAccountName', input.serviceAccountName],
        ['databaseSecretName', input.databaseSecretName],
      ] as const) {
        if (value) {
          validateName(nameRules.kubernetesName, field, value);
        }
      }
      input.allowedClientNamespaces.forEach((ns, i) =>
        validateName(
          nameRules.kubernetesName,
          `allowedClientNamespaces[${i}]`,
          ns,
        ),
      );
      validateName(
        nameRules.kubernetesName,
        'ingressControllerNamespace',
        input.ingressControllerNamespace,
      );
      if (input.region) {
        validateName(nameRules.awsRegion, 'region', input.region);
      }
      if (input.rdsInstanceId) {
        validateName(
          nameRules.rdsInstanceIdentifier,
          'rdsInstanceId',
          input.rdsInstanceId,
        );
      }
      if (input.databaseName) {
        validateName(
          nameRules.postgresDatabaseName,
          'databaseName',
          input.databaseName,
        );
      }
      if (input.system && !LABEL_VALUE.test(input.system)) {
        invalid(
          'system',
          input.system,
          'an entity name usable as a label value: up to 63 letters, digits, -, _ and ., starting and ending with a letter or digit',
        );
      }
      if (
        input.roleArn &&
        !/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(input.roleArn)
      ) {
        invalid(
          'roleArn',
          input.roleArn,
          'an IAM role ARN, arn:aws:iam::<account>:role/<name>',
        );
      }
      for (const field of [
        'cpuRequest',
        'memoryRequest',
        'memoryLimit',
      ] as const) {
        if (!QUANTITY.test(input[field])) {
          invalid(
            field,
            input[field],
            'a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi',
          );
        }
      }
      if (!/^\d+[kmg]?$/i.test(input.proxyBodySize)) {
        invalid(
          'proxyBodySize',
          input.proxyBodySize,
          'a size in nginx syntax such as 500m or 5g',
        );
      }
      for (const key of Object.keys(input.extraEnv)) {
        if (!ENV_NAME.test(key) || key === 'MLFLOW_BACKEND_STORE_URI') {
          invalid(
            `extraEnv key`,
            key,
            'an environment variable name (letters, digits, _; not MLFLOW_BACKEND_STORE_URI)',
          );
        }
        if (SECRET_LIKE_ENV.test(key)) {
          invalid(
            'extraEnv key',
            key,
            'non-secret settings only: extraEnv lands in a ConfigMap, so credentials never go there (the server reaches AWS through its IAM role)',
          );
        }
      }
      if (input.environment === 'prod' && input.replicas < 2) {
        invalid(
          'replicas',
          input.replicas,
          'at least 2 in prod, so that a pod restart or a node drain keeps the server up',
        );
      }
      if (!sizeConnectionPools(input)) {
        throw new InputError(
          `Invalid replicas/workers: ${input.replicas} replicas × ${input.workers} workers (plus one surge pod and the migration) do not fit in dbMaxConnections ${input.dbMaxConnections} with at least 2 connections each. Accepted: fewer replicas or workers, or a larger dbMaxConnections.`,
        );
      }

      const ephemeralReasons: string[] = [];
      const artifacts = input.artifactsDestination;
      if (isLocalPath(artifacts)) {
        ephemeralReasons.push(
          `artifacts on the pod's local disk (${artifacts})`,
        );
      } else {
        const s3 = parseS3Uri(artifacts);
        if (!s3 || !artifacts.startsWith('s3://')) {
          invalid(
            'artifactsDestination',
            artifacts,
            's3://<bucket>/<prefix> (the artifactRoot output of mlflow:s3:create)',
          );
        }
        validateName(
          nameRules.s3BucketName,
          'artifactsDestination bucket',
          s3.bucket,
        );
      }
      let backendStore: BackendStore;
      if (input.backendStoreUri) {
        if (!isEphemeralStoreUri(input.backendStoreUri)) {
          throw new InputError(
            `Invalid backendStoreUri: received a ${
              input.backendStoreUri.split(':')[0]
            } URI, but a real backend store URI is never written into a manifest: it is read from the database Secret (databaseSecretName, written by mlflow:database:create). Accepted: leave backendStoreUri empty, or a sqlite:/// URI with allowEphemeralStorage.`,
          );
        }
        ephemeralReasons.push(
          `a ${input.backendStoreUri.split(':')[0]} backend store in the pod (${
            input.backendStoreUri
          })`,
        );
        backendStore = { kind: 'ephemeral', uri: input.backendStoreUri };
      } else {
        backendStore = {
          kind: 'secret',
          secretName:
            input.databaseSecretName || defaultDatabaseSecretName(name),
        };
      }
      if (ephemeralReasons.length > 0 && !input.allowEphemeralStorage) {
        throw new InputError(
          `Refusing ephemeral storage: ${ephemeralReasons.join(
            ' and ',
          )}. Kubernetes pods are ephemeral: a restart wipes every experiment, run and artifact stored in them. Accepted: the database Secret from mlflow:database:create and artifactsDestination s3://bucket/prefix, or allowEphemeralStorage: true for a throw-away demonstration.`,
        );
      }
      if (ephemeralReasons.length > 0) {
        ctx.logger.warn(
          `!!! EPHEMERAL STORAGE for MLflow instance ${name}: ${ephemeralReasons.join(
            ' and ',
          )}. EVERY EXPERIMENT, RUN AND ARTIFACT IS LOST WHEN A POD RESTARTS, and each replica sees different data. Use this for demonstrations only, never for real work. !!!`,
        );
      }

      const manifests = renderMlflowManifests({
        name,
        namespace,
        cluster,
        image,
        hostname,
        tlsSecretName: input.tlsSecretName,
        ingressClassName: input.ingressClassName,
        environment: input.environment,
        replicas: input.replicas,
        workers: input.workers,
        serviceAccountName: input.serviceAccountName,
        roleArn: input.roleArn,
        region: input.region,
        owner: input.owner,
        system: input.system,
        description: input.description,
        rdsInstanceId: input.rdsInstanceId,
        databaseName: input.databaseName,
        backendStore,
        artifactsDestination: artifacts,
        dbMaxConnections: input.dbMaxConnections,
        cpuRequest: input.cpuRequest,
        memoryRequest: input.memoryRequest,
        memoryLimit: input.memoryLimit,
        proxyBodySize: input.proxyBodySize,
        proxyTimeoutSeconds: input.proxyTimeoutSeconds,
        ingressControllerNamespace: input.ingressControllerNamespace,
        allowedClientNamespaces: input.allowedClientNamespaces,
        extraEnv: input.extraEnv,
        runAsUser: input.runAsUser,
        migrationTimeoutSeconds: input.timeoutSeconds,
      });
      const objects = manifestsInApplyOrder(manifests);

      if (input.manifestsPath) {
        const target = resolveSafeChildPath(
          ctx.workspacePath,
          input.manifestsPath,
        );
        await mkdir(dirname(target), { recursive: true });
        await writeFile(
          target,
          objects.map(o => dumpYaml(o)).join('---\n'),
          'utf8',
        );
        ctx.logger.info(
          `Wrote ${objects.length} manifests to ${input.manifestsPath}`,
        );
        ctx.output('manifestsPath', input.manifestsPath);
      }
      const outputs = () => {
        ctx.output('namespace', namespace);
        ctx.output('deployment', manifests.deployment.metadata!.name!);
        ctx.output('serviceUrl', manifests.serviceUrl);
        ctx.output('trackingUrl', manifests.trackingUrl);
      };
      ctx.logger.info(
        `Plan for MLflow instance ${name} on cluster ${cluster}: ${objects
          .map(o => describeRef(refOf(o)))
          .join(', ')}; ${input.replicas} replicas × ${
          input.workers
        } workers with a database pool of ${manifests.pool.size} (+${
          manifests.pool.maxOverflow
        }) each; tracking URL ${manifests.trackingUrl}`,
      );
      if (!api) {
        ctx.logger.info('apply is false: nothing is sent to the cluster');
        outputs();
        return;
      }

      const existingNamespace = await api.read({
        apiVersion: 'v1',
        kind: 'Namespace',
        name: namespace,
      });
      const useExistingNamespace =
        existingNamespace !== undefined &&
        existingNamespace.metadata?.labels?.[LABEL_APP_MANAGED_BY] !==
          MANAGED_BY_STATEFUL_MLFLOW;
      if (useExistingNamespace) {
        ctx.logger.info(`Using the existing namespace ${namespace} as it is`);
      }
      const toApply = objects.filter(
        o => !(useExistingNamespace && o.kind === 'Namespace'),
      );
      if (existingNamespace) {
        await assertNothingForeign(api, toApply, name);
      }
      if (backendStore.kind === 'secret') {
        const secret =
          existingNamespace &&
          (await api.read({
            apiVersion: 'v1',
            kind: 'Secret',
            name: backendStore.secretName,
            namespace,
          }));
        if (!secret) {
          const missing = `The database Secret ${namespace}/${backendStore.secretName} does not exist`;
          if (!ctx.isDryRun) {
            throw new InputError(
              `${missing}. Run mlflow:database:create for this instance first (same cluster and namespace), or give its secretName as databaseSecretName.`,
            );
          }
          ctx.logger.info(
            `Dry-run: ${missing} yet; mlflow:database:create writes it before this step in a real run`,
          );
        }
      }

      if (ctx.isDryRun) {
        for (const object of toApply) {
          if (!existingNamespace && object.kind !== 'Namespace') {
            ctx.logger.info(
              `Dry-run: ${describeRef(
                refOf(object),
              )} validated locally only (namespace ${namespace} does not exist yet)`,
            );
            continue;
          }
          await api.apply(object, { dryRun: true });
          ctx.logger.info(
            `Dry-run: the cluster accepts ${describeRef(refOf(object))}`,
          );
        }
        outputs();
        return;
      }

      // One budget for both waits: timeoutSeconds bounds the whole step.
      const deadline = Date.now() + input.timeoutSeconds * 1000;
      const secondsLeft = () =>
        Math.max(1, Math.round((deadline - Date.now()) / 1000));
      for (const object of toApply) {
        const ref = refOf(object);
        await ctx.checkpoint({
          key: `mlflow:k8s:${cluster}:${namespace}:${ref.kind}:${ref.name}:apply`,
          fn: async () => {
            ctx.logger.info(
              `Applying ${describeRef(ref)} on cluster ${cluster}`,
            );
            await api.apply(object, { dryRun: false });
          },
        });
        if (object === manifests.migrationJob) {
          await ctx.checkpoint({
            key: `mlflow:k8s:${cluster}:${namespace}:Job:${ref.name}:complete`,
            fn: () =>
              waitForJob({
                api,
                job: manifests.migrationJob!,
                timeoutSeconds: secondsLeft(),
                pollIntervalMs,
                ctx,
              }),
          });
        }
      }
      if (input.waitForRollout) {
        await waitForRollout({
          api,
          manifests,
          timeoutSeconds: secondsLeft(),
          pollIntervalMs,
          ctx,
        });
      }
      outputs();
    },
  });
}

type WaitContext = {
  logger: Parameters<typeof waitFor>[0]['logger'];
  signal?: AbortSignal;
};

async function assertNothingForeign(
  api: MlflowKubernetesApi,
  objects: KubernetesObject[],
  name: string,
) {
  for (const object of objects) {
    const ref = refOf(object);
    const existing = await api.read(ref);
    const managedBy = existing?.metadata?.labels?.[LABEL_APP_MANAGED_BY];
    if (existing && managedBy !== MANAGED_BY_STATEFUL_MLFLOW) {
      throw new InputError(
        `${describeRef(
          ref,
        )} already exists and is not managed by Backstage's MLflow actions (label ${LABEL_APP_MANAGED_BY}=${
          managedBy ?? 'unset'
        }). It is not taken over silently: choose another instance name or namespace than "${name}".`,
      );
    }
  }
}

function podProblems(pods: V1Pod[]): string[] {
  return pods.flatMap(pod =>
    (pod.status?.containerStatuses ?? []).flatMap(status => {
      const waiting = status.state?.waiting;
      const terminated =
        status.state?.terminated ?? status.lastState?.terminated;
      if (waiting?.reason && waiting.reason !== 'ContainerCreating') {
        return [
          `${pod.metadata?.name}: ${waiting.reason}${
            waiting.message ? ` (${waiting.message})` : ''
          }`,
        ];
      }
      if (terminated && terminated.exitCode !== 0) {
        return [
          `${pod.metadata?.name}: exited with ${terminated.exitCode}${
            terminated.message ? `: ${terminated.message.trim()}` : ''
          }`,
        ];
      }
      return [];
    }),
  );
}

async function waitForJob(options: {
  api: MlflowKubernetesApi;
  job: V1Job;
  timeoutSeconds: number;
  pollIntervalMs: number;
  ctx: WaitContext;
}) {
  const { api, job, ctx } = options;
  const ref = refOf(job);
  await waitFor({
    what: `the database migration Job ${ref.name} (mlflow db upgrade) to complete`,
    timeoutSeconds: options.timeoutSeconds,
    logger: ctx.logger,
    signal: ctx.signal,
    pollIntervalMs: options.pollIntervalMs,
    check: async () => {
      const current = await api.read<V1Job>(ref);
      const status = current?.status;
      if ((status?.succeeded ?? 0) > 0) {
        return { done: true, value: undefined };
      }
      const failed = status?.conditions?.find(
        c => c.type === 'Failed' && c.status === 'True',
      );
      const pods = await api.list<V1Pod>({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ref.namespace!,
        labelSelector: `job-name=${ref.name}`,
      });
      const problems = podProblems(pods);
      if (failed) {
        throw new Error(
          `The database migration Job ${ref.namespace}/${ref.name} failed (${
            failed.reason ?? 'Failed'
          }${failed.message ? `: ${failed.message}` : ''}). ${
            problems.length > 0 ? `Pods: ${problems.join('; ')}. ` : ''
          }${IMAGE_HINT}`,
        );
      }
      return {
        done: false,
        status: `active ${status?.active ?? 0}, failed ${status?.failed ?? 0}${
          problems.length > 0 ? `; ${problems.join('; ')}` : ''
        }`,
      };
    },
  });
}

async function waitForRollout(options: {
  api: MlflowKubernetesApi;
  manifests: MlflowManifests;
  timeoutSeconds: number;
  pollIntervalMs: number;
  ctx: WaitContext;
}) {
  const { api, manifests, ctx } = options;
  const ref = refOf(manifests.deployment);
  const want = manifests.deployment.spec!.replicas!;
  const selector = Object.entries(
    manifests.deployment.spec!.selector.matchLabels!,
  )
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  await waitFor({
    what: `Deployment ${ref.namespace}/${ref.name} to roll out ${want} ready replicas`,
    timeoutSeconds: options.timeoutSeconds,
    logger: ctx.logger,
    signal: ctx.signal,
    pollIntervalMs: options.pollIntervalMs,
    check: async () => {
      const current = await api.read<V1Deployment>(ref);
      const s = current?.status;
      const observed =
        (s?.observedGeneration ?? 0) >= (current?.metadata?.generation ?? 1);
      if (
        current &&
        observed &&
        s?.updatedReplicas === want &&
        s?.readyReplicas === want &&
        s?.availableReplicas === want &&
        (s?.replicas ?? want) === want
      ) {
        return { done: true, value: undefined };
      }
      const pods = await api.list<V1Pod>({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ref.namespace!,
        labelSelector: selector,
      });
      const problems = podProblems(pods);
      return {
        done: false,
        status: `${s?.updatedReplicas ?? 0}/${want} updated, ${
          s?.readyReplicas ?? 0
        }/${want} ready${
          problems.length > 0 ? `; ${problems.join('; ')}` : ''
        }`,
      };
    },
  });
}
