import { InputError, isError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import type { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import {
  HEALTH_SECRET_KEYS,
  readManagedSecret,
} from '../kubernetes/authSecrets';
import { KubernetesApiProvider } from '../kubernetes/kubernetesApi';
import { FetchLike } from '../tracking/healthUser';
import { waitFor } from '../util/waitFor';
import {
  clusterInput,
  nameInput,
  namespaceInput,
  timeoutSecondsInput,
} from './inputProperties';
import { examples } from './instanceCheckHealth.examples';

type Probe = { ok: true; version: string } | { ok: false; status: string };

/**
 * Asks the tracking server what the deep health check asks (liveness, version, one call that
 * touches the database), signed in as the health user when the server requires sign-in.
 */
async function probe(
  fetchTracking: FetchLike,
  trackingUrl: string,
  authorization: Record<string, string>,
  signal?: AbortSignal,
): Promise<Probe> {
  const health = await fetchTracking(`${trackingUrl}/health`, {
    method: 'GET',
    headers: {},
    signal,
  });
  if (health.status !== 200) {
    return { ok: false, status: `/health answered ${health.status}` };
  }
  const version = await fetchTracking(`${trackingUrl}/version`, {
    method: 'GET',
    headers: authorization,
    signal,
  });
  if (version.status !== 200) {
    return { ok: false, status: `/version answered ${version.status}` };
  }
  const search = await fetchTracking(
    `${trackingUrl}/api/2.0/mlflow/experiments/search`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorization },
      body: JSON.stringify({ max_results: 1 }),
      signal,
    },
  );
  if (search.status !== 200) {
    return {
      ok: false,
      status: `experiments/search (the database) answered ${search.status}`,
    };
  }
  return { ok: true, version: (await version.text()).trim() };
}

/**
 * The health check that closes an upgrade: waits (bounded) until the tracking server is healthy
 * and, when given, reports the expected MLflow version; fails otherwise.
 */
export function createInstanceCheckHealthAction(options: {
  clusters: MlflowClusters;
  kubernetes: KubernetesApiProvider;
  fetch?: FetchLike;
  pollIntervalMs?: number;
}) {
  const fetchTracking: FetchLike = options.fetch ?? fetch;
  return createTemplateAction({
    id: 'mlflow:instance:checkHealth',
    description:
      "Checks an MLflow tracking server as Backstage's health check does (/health, /version, one database call), signed in as the instance's health user; waits until it passes or the timeout ends, and fails when the version is not the expected one.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        cluster: clusterInput,
        namespace: namespaceInput,
        trackingUrl: z =>
          z.string().describe('Tracking URL of the instance (http or https).'),
        healthSecretName: z =>
          z
            .string()
            .optional()
            .describe(
              "Secret holding the health user's login; none for an anonymous server.",
            ),
        expectedVersion: z =>
          z
            .string()
            .optional()
            .describe('MLflow version the server must report, e.g. 3.17.2.'),
        timeoutSeconds: z => timeoutSecondsInput(z, 300),
      },
      output: {
        version: z => z.string().describe('MLflow version the server reports.'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const name = validateName(nameRules.instanceName, 'name', input.name);
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        resolveInstanceNames({ name, namespace: input.namespace }).namespace,
      );
      if (!/^https?:\/\/[^/\s]+$/.test(input.trackingUrl)) {
        throw new InputError(
          `Invalid trackingUrl: received ${describeReceived(
            input.trackingUrl,
          )}. Accepted: http(s)://<host> without a path (the trackingUrl output of mlflow:kubernetes:deploy).`,
        );
      }
      if (
        input.expectedVersion !== undefined &&
        !/^\d+\.\d+\.\d+$/.test(input.expectedVersion)
      ) {
        throw new InputError(
          `Invalid expectedVersion: received ${describeReceived(
            input.expectedVersion,
          )}. Accepted: a version such as 3.17.2, or nothing.`,
        );
      }
      const cluster = options.clusters.get(input.cluster, 'cluster').name;
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Plan: check ${input.trackingUrl} (/health, /version${
            input.expectedVersion ? ` = ${input.expectedVersion}` : ''
          }, experiments/search)`,
        );
        ctx.output('version', input.expectedVersion ?? 'dry-run');
        return;
      }
      let authorization: Record<string, string> = {};
      if (input.healthSecretName) {
        const secretName = validateName(
          nameRules.kubernetesName,
          'healthSecretName',
          input.healthSecretName,
        );
        const login = await readManagedSecret(
          options.kubernetes(cluster, { signal: ctx.signal }),
          { namespace, secretName, field: 'healthSecretName' },
        );
        const username = login?.[HEALTH_SECRET_KEYS.username];
        const password = login?.[HEALTH_SECRET_KEYS.password];
        if (!username || !password) {
          throw new InputError(
            `Invalid healthSecretName: received ${describeReceived(
              secretName,
            )}, but Secret ${namespace}/${secretName} holds no health login. Accepted: the healthSecretName output of mlflow:database:create.`,
          );
        }
        authorization = {
          authorization: `Basic ${Buffer.from(
            `${username}:${password}`,
          ).toString('base64')}`,
        };
      }
      const expected = input.expectedVersion;
      const version = await waitFor({
        what: `${input.trackingUrl} to be healthy${
          expected ? ` on MLflow ${expected}` : ''
        }`,
        timeoutSeconds: input.timeoutSeconds,
        logger: ctx.logger,
        signal: ctx.signal,
        pollIntervalMs: options.pollIntervalMs ?? 2_000,
        check: async () => {
          let result: Probe;
          try {
            result = await probe(
              fetchTracking,
              input.trackingUrl,
              authorization,
              ctx.signal,
            );
          } catch (error) {
            return {
              done: false,
              status: `unreachable (${isError(error) ? error.message : error})`,
            };
          }
          if (!result.ok) {
            return { done: false, status: result.status };
          }
          if (expected && result.version !== expected) {
            return {
              done: false,
              status: `reports MLflow ${result.version}, not ${expected} yet`,
            };
          }
          return { done: true, value: result.version };
        },
      });
      ctx.logger.info(
        `${input.trackingUrl} is healthy and reports MLflow ${version}`,
      );
      ctx.output('version', version);
    },
  });
}
