import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { normalizeEntityRef } from './normalizeEntityRef';

/** The catalog module's settings, `mlflow.catalog.*` (declared in config.d.ts). */
export type MlflowCatalogConfig = {
  refreshIntervalSeconds: number;
  clusters: string[];
  defaultOwner: string;
};

export const DEFAULT_REFRESH_INTERVAL_SECONDS = 30;
export const MAX_REFRESH_INTERVAL_SECONDS = 3600;
export const DEFAULT_OWNER = 'group:default/unknown';

/** Reads and checks `mlflow.catalog`; a bad value fails the backend start with the key and what is accepted. */
export function readMlflowCatalogConfig(
  config: Config,
  clusters: MlflowClusters,
): MlflowCatalogConfig {
  const refreshIntervalSeconds =
    config.getOptionalNumber('mlflow.catalog.refreshIntervalSeconds') ??
    DEFAULT_REFRESH_INTERVAL_SECONDS;
  if (
    !Number.isInteger(refreshIntervalSeconds) ||
    refreshIntervalSeconds < 1 ||
    refreshIntervalSeconds > MAX_REFRESH_INTERVAL_SECONDS
  ) {
    throw new InputError(
      `Invalid mlflow.catalog.refreshIntervalSeconds: received ${refreshIntervalSeconds}, but it must be a whole number of seconds from 1 to ${MAX_REFRESH_INTERVAL_SECONDS}.`,
    );
  }

  const configuredClusters = config.getOptionalStringArray(
    'mlflow.catalog.clusters',
  );
  const selected = configuredClusters ?? clusters.names();
  for (const name of selected) {
    clusters.get(name, 'mlflow.catalog.clusters');
  }

  const ownerValue =
    config.getOptionalString('mlflow.catalog.defaultOwner') ?? DEFAULT_OWNER;
  const defaultOwner = normalizeEntityRef(ownerValue, 'group');
  if (!defaultOwner) {
    throw new InputError(
      `Invalid mlflow.catalog.defaultOwner: received ${JSON.stringify(
        ownerValue,
      )}, but it must be an entity reference such as group:default/platform-team or platform-team.`,
    );
  }

  return { refreshIntervalSeconds, clusters: selected, defaultOwner };
}
