import {
  MlflowCheckId,
  MlflowCheckStatus,
} from '@stateful-mlflow/plugin-mlflow-common';
import { overallStatus } from './overallStatus';

function checks(
  statuses: Partial<Record<MlflowCheckId, MlflowCheckStatus>>,
): Array<{ id: MlflowCheckId; status: MlflowCheckStatus }> {
  const all: MlflowCheckId[] = [
    'trackingServer',
    'database',
    'artifactStore',
    'kubernetes',
  ];
  return all.map(id => ({ id, status: statuses[id] ?? 'ok' }));
}

describe('overallStatus', () => {
  it('is healthy when every check is ok', () => {
    expect(overallStatus(checks({}))).toBe('healthy');
  });

  it('is unhealthy when the tracking server or the database fails', () => {
    expect(overallStatus(checks({ trackingServer: 'error' }))).toBe(
      'unhealthy',
    );
    expect(
      overallStatus(checks({ database: 'error', kubernetes: 'warning' })),
    ).toBe('unhealthy');
  });

  it('is degraded on a warning anywhere or an error of the bucket or the Deployment', () => {
    expect(overallStatus(checks({ database: 'warning' }))).toBe('degraded');
    expect(overallStatus(checks({ kubernetes: 'warning' }))).toBe('degraded');
    expect(overallStatus(checks({ artifactStore: 'error' }))).toBe('degraded');
    expect(overallStatus(checks({ kubernetes: 'error' }))).toBe('degraded');
  });

  it('is unknown only when nothing could be checked', () => {
    expect(
      overallStatus(
        checks({
          trackingServer: 'unknown',
          database: 'unknown',
          artifactStore: 'unknown',
          kubernetes: 'unknown',
        }),
      ),
    ).toBe('unknown');
    expect(
      overallStatus(
        checks({
          database: 'unknown',
          artifactStore: 'unknown',
          kubernetes: 'unknown',
        }),
      ),
    ).toBe('healthy');
  });
});
