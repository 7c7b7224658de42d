import { Config, ConfigReader } from '@backstage/config';

/** The `mlflow.health` settings with their defaults applied. */
export type MlflowHealthConfig = {
  allowedTrackingHosts: string[];
  checkTimeoutMs: number;
  cacheTtlSeconds: number;
  storeSettingsTtlSeconds: number;
  refreshMinIntervalSeconds: number;
  maxConcurrencyPerHost: number;
};

function readNumber(
  config: Config,
  key: string,
  fallback: number,
  min: number,
): number {
  const value = config.getOptionalNumber(key) ?? fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new Error(
      `Invalid mlflow.health.${key}: received ${value}, but it must be an integer of at least ${min}.`,
    );
  }
  return value;
}

/** Reads `mlflow.health`; throws at startup on a value the service could not honour. */
export function readMlflowHealthConfig(root: Config): MlflowHealthConfig {
  const config =
    root.getOptionalConfig('mlflow.health') ?? new ConfigReader({});
  const allowedTrackingHosts =
    config.getOptionalStringArray('allowedTrackingHosts') ?? [];
  for (const pattern of allowedTrackingHosts) {
    if (pattern.trim() === '' || /[/@\s]/.test(pattern)) {
      throw new Error(
        `Invalid mlflow.health.allowedTrackingHosts entry: received ${JSON.stringify(
          pattern,
        )}, but it must be a host name pattern such as mlflow.example.com or *.mlflow.example.com (no scheme, port or path).`,
      );
    }
  }
  return {
    allowedTrackingHosts: allowedTrackingHosts.map(p => p.toLowerCase()),
    checkTimeoutMs: readNumber(config, 'checkTimeoutMs', 5000, 1),
    cacheTtlSeconds: readNumber(config, 'cacheTtlSeconds', 30, 0),
    storeSettingsTtlSeconds: readNumber(
      config,
      'storeSettingsTtlSeconds',
      600,
      0,
    ),
    refreshMinIntervalSeconds: readNumber(
      config,
      'refreshMinIntervalSeconds',
      10,
      0,
    ),
    maxConcurrencyPerHost: readNumber(config, 'maxConcurrencyPerHost', 4, 1),
  };
}
