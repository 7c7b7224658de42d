import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { fleetEntity, reportOf } from '../../testUtils/fleet';
import { degradedReport, healthyReport } from '../../testUtils/reports';
import { toFleetRow } from './fleetRow';

const entity = fleetEntity('mlflow-a', {
  owner: 'group:default/team-ml',
  environment: 'staging',
});
const ref = 'component:default/mlflow-a';

describe('a fleet row', () => {
  it('takes the facts from the report and the entity', () => {
    const row = toFleetRow(entity, { report: reportOf(ref, degradedReport) });
    expect(row).toMatchObject({
      entityRef: ref,
      overall: 'degraded',
      version: '3.1.0',
      environment: 'staging',
      owner: 'group:default/team-ml',
      region: 'eu-west-1',
      cluster: 'local',
      replicas: { ready: 1, desired: 2 },
      failingCompliance: [],
      trackingUrl: 'https://mlflow-a.example.com',
      authentication: undefined,
      lastSnapshot: undefined,
    });
    expect(row.checks.map(c => `${c.id}:${c.status}`)).toEqual([
      'trackingServer:ok',
      'database:ok',
      'artifactStore:ok',
      'kubernetes:warning',
    ]);
  });

  it('lists required compliance points that fail, not optional ones', () => {
    const report: MlflowHealthReport = {
      ...reportOf(ref),
      checks: healthyReport.checks.map(check =>
        check.id === 'database' && check.details
          ? {
              ...check,
              details: {
                ...check.details,
                compliance: [
                  { id: 'encrypted', label: 'Storage encrypted', ok: false },
                  {
                    id: 'multiAz',
                    label: 'Multi-AZ',
                    ok: false,
                    required: false,
                  },
                  { id: 'backups', label: 'Automated backups', ok: true },
                ],
              },
            }
          : check,
      ),
    };
    expect(toFleetRow(entity, { report }).failingCompliance).toEqual([
      'Storage encrypted',
    ]);
  });

  it('reads the authentication mode and the last snapshot when the report carries them', () => {
    const report = {
      ...reportOf(ref),
      checks: healthyReport.checks.map(check => {
        if (check.id === 'trackingServer') {
          return {
            ...check,
            details: { ...check.details, authMode: 'basic-auth' },
          };
        }
        if (check.id === 'database') {
          return {
            ...check,
            details: {
              ...check.details,
              lastSnapshot: { id: 'snap-1', createdAt: '2026-11-25T03:00:00Z' },
            },
          };
        }
        return check;
      }),
    } as MlflowHealthReport;
    expect(toFleetRow(entity, { report })).toMatchObject({
      authentication: 'basic-auth',
      lastSnapshot: '2026-11-25T03:00:00Z',
    });
  });

  it('is unknown with the reason when the backend could not make a report', () => {
    const row = toFleetRow(entity, {
      error: { name: 'Error', message: 'catalog timeout' },
    });
    expect(row).toMatchObject({
      overall: 'unknown',
      reportError: 'catalog timeout',
      version: undefined,
      replicas: undefined,
    });
    expect(row.checks.every(c => c.status === 'unknown')).toBe(true);
  });
});
