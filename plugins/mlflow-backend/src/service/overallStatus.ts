import {
  MlflowHealthCheck,
  MlflowOverallStatus,
} from '@stateful-mlflow/plugin-mlflow-common';

/**
 * The overall state of an instance (rules in the README):
 * unhealthy when the tracking server or the database fails (users cannot track);
 * degraded on any other error or any warning; unknown when nothing could be checked;
 * healthy otherwise.
 */
export function overallStatus(
  checks: Array<Pick<MlflowHealthCheck, 'id' | 'status'>>,
): MlflowOverallStatus {
  if (
    checks.some(
      c =>
        c.status === 'error' &&
        (c.id === 'trackingServer' || c.id === 'database'),
    )
  ) {
    return 'unhealthy';
  }
  if (checks.some(c => c.status === 'error' || c.status === 'warning')) {
    return 'degraded';
  }
  if (checks.every(c => c.status === 'unknown')) {
    return 'unknown';
  }
  return 'healthy';
}
