import {
  LoggerService,
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { normalizeEntityRef } from './normalizeEntityRef';

/**
 * A namespace whose MLflow Deployments are adopted without a signature, with the owner from config.
 *
 * @public
 */
export type MlflowAdoptRule = {
  namespace: string;
  /** Undefined: the namespace in every cluster. */
  cluster?: string;
  owner: string;
  /** Catalog namespace of the adopted entities: apart from `default`, where template instances live. */
  entityNamespace: string;
};

/** The entity provider's settings, `catalog.providers.mlflow` (declared in config.d.ts). */
export type MlflowCatalogConfig = {
  schedule: SchedulerServiceTaskScheduleDefinition;
  clusters: string[];
  adoptNamespaces: MlflowAdoptRule[];
};

const PROVIDER_KEY = 'catalog.providers.mlflow';
const LEGACY_KEY = 'mlflow.catalog';
export const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { seconds: 30 },
  timeout: { minutes: 1 },
};
export const DEFAULT_OWNER = 'group:default/unknown';
export const DEFAULT_ADOPTED_ENTITY_NAMESPACE = 'mlflow-adopted';
const MAX_LEGACY_INTERVAL_SECONDS = 3600;
// Kubernetes namespace names (RFC 1123 labels); also valid catalog namespaces.
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function invalid(field: string, value: unknown, accepted: string): never {
  throw new InputError(
    `Invalid ${field}: received ${JSON.stringify(
      value,
    )}, but it must be ${accepted}.`,
  );
}

function readOwner(value: string, field: string): string {
  return (
    normalizeEntityRef(value, 'group') ??
    invalid(
      field,
      value,
      'an entity reference such as group:default/platform-team or platform-team',
    )
  );
}

function readClusters(
  config: Config | undefined,
  key: string,
  clusters: MlflowClusters,
): string[] {
  const configured = config?.getOptionalStringArray('clusters');
  const selected = configured ?? clusters.names();
  for (const name of selected) {
    clusters.get(name, key);
  }
  return selected;
}

function readAdoptRules(
  provider: Config,
  clusters: string[],
): MlflowAdoptRule[] {
  const fallbackOwner = readOwner(
    provider.getOptionalString('defaultOwner') ?? DEFAULT_OWNER,
    `${PROVIDER_KEY}.defaultOwner`,
  );
  return (provider.getOptionalConfigArray('adoptNamespaces') ?? []).map(
    (rule, i) => {
      const field = `${PROVIDER_KEY}.adoptNamespaces[${i}]`;
      const namespace = rule.getString('namespace');
      if (!DNS_LABEL.test(namespace)) {
        invalid(
          `${field}.namespace`,
          namespace,
          'a Kubernetes namespace name (lowercase letters, digits and hyphens, at most 63)',
        );
      }
      const cluster = rule.getOptionalString('cluster');
      if (cluster !== undefined && !clusters.includes(cluster)) {
        invalid(
          `${field}.cluster`,
          cluster,
          `one of the clusters the provider lists: ${clusters.join(', ')}`,
        );
      }
      const ownerValue = rule.getOptionalString('owner');
      const entityNamespace =
        rule.getOptionalString('entityNamespace') ??
        DEFAULT_ADOPTED_ENTITY_NAMESPACE;
      if (!DNS_LABEL.test(entityNamespace) || entityNamespace === 'default') {
        invalid(
          `${field}.entityNamespace`,
          entityNamespace,
          'a catalog namespace other than default (lowercase letters, digits and hyphens): default holds the instances created by the template, which an adopted Deployment must never take',
        );
      }
      return {
        namespace,
        cluster,
        owner:
          ownerValue === undefined
            ? fallbackOwner
            : readOwner(ownerValue, `${field}.owner`),
        entityNamespace,
      };
    },
  );
}

/** The deprecated `mlflow.catalog` block: its interval as a schedule, its clusters; nothing adopted. */
function readLegacy(
  legacy: Config,
  clusters: MlflowClusters,
): MlflowCatalogConfig {
  const seconds = legacy.getOptionalNumber('refreshIntervalSeconds');
  if (
    seconds !== undefined &&
    (!Number.isInteger(seconds) ||
      seconds < 1 ||
      seconds > MAX_LEGACY_INTERVAL_SECONDS)
  ) {
    invalid(
      `${LEGACY_KEY}.refreshIntervalSeconds`,
      seconds,
      `a whole number of seconds from 1 to ${MAX_LEGACY_INTERVAL_SECONDS}`,
    );
  }
  return {
    schedule:
      seconds === undefined
        ? DEFAULT_SCHEDULE
        : {
            frequency: { seconds },
            timeout: { seconds: Math.max(seconds * 2, 60) },
          },
    clusters: readClusters(legacy, `${LEGACY_KEY}.clusters`, clusters),
    adoptNamespaces: [],
  };
}

/**
 * Reads and checks `catalog.providers.mlflow`; a bad value fails the backend start with the key,
 * the value and what is accepted. The deprecated `mlflow.catalog` is still read, with a warning.
 */
export function readMlflowCatalogConfig(
  config: Config,
  clusters: MlflowClusters,
  logger: LoggerService,
): MlflowCatalogConfig {
  const provider = config.getOptionalConfig(PROVIDER_KEY);
  const legacy = config.getOptionalConfig(LEGACY_KEY);
  if (legacy && provider) {
    logger.warn(
      `${LEGACY_KEY} is deprecated and ignored because ${PROVIDER_KEY} is set; remove it.`,
    );
  } else if (legacy) {
    logger.warn(
      `${LEGACY_KEY} is deprecated: move it to ${PROVIDER_KEY} (schedule, clusters). Unsigned MLflow Deployments are no longer adopted everywhere: list their namespaces under ${PROVIDER_KEY}.adoptNamespaces.`,
    );
    return readLegacy(legacy, clusters);
  }
  if (!provider) {
    return {
      schedule: DEFAULT_SCHEDULE,
      clusters: clusters.names(),
      adoptNamespaces: [],
    };
  }
  const selected = readClusters(provider, `${PROVIDER_KEY}.clusters`, clusters);
  return {
    schedule: provider.has('schedule')
      ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
          provider.getConfig('schedule'),
        )
      : DEFAULT_SCHEDULE,
    clusters: selected,
    adoptNamespaces: readAdoptRules(provider, selected),
  };
}
