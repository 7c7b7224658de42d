import { BACKEND_STORE_URI_KEY } from '@stateful-mlflow/plugin-mlflow-common';
import {
  anonymousOptions,
  baseOptions,
  fromDbSecret,
} from '../__testUtils__/manifestOptions';
import { authMigrationScript } from './authSecrets';
import {
  AUTH_DATABASE_URI_KEY,
  manifestsInApplyOrder,
  renderMlflowManifests,
  sizeConnectionPools,
} from './renderMlflowManifests';

describe('renderMlflowManifests', () => {
  const m = renderMlflowManifests(baseOptions);

  it('runs the migration Job with the same store (an upgrade in order, a first start side by side), surfacing its logs on failure, under a name that changes with its template', () => {
    const job = m.migrationJob!.spec!.template.spec!;
    // An upgrade: the tracking store first, the auth database only after it succeeded; the auth
    // container also makes the health-check user.
    expect(job.initContainers!.map(c => c.name)).toEqual(['db-upgrade']);
    expect(job.containers.map(c => c.name)).toEqual(['auth-db-upgrade']);
    const [trackingUpgrade] = job.initContainers!;
    const [authUpgrade] = job.containers;
    expect(trackingUpgrade.command).toEqual(['mlflow']);
    expect(trackingUpgrade.args).toEqual([
      'db',
      'upgrade',
      `$(${BACKEND_STORE_URI_KEY})`,
    ]);
    expect(authUpgrade.command).toEqual(['python']);
    expect(authUpgrade.args).toEqual([
      '-c',
      authMigrationScript(AUTH_DATABASE_URI_KEY),
    ]);
    const healthLogin = (name: string, key: string) => ({
      name,
      valueFrom: {
        secretKeyRef: { name: 'demo-mlflow-health', key, optional: true },
      },
    });
    expect(authUpgrade.env).toEqual([
      fromDbSecret(BACKEND_STORE_URI_KEY),
      fromDbSecret('PGPASSWORD'),
      fromDbSecret(AUTH_DATABASE_URI_KEY),
      healthLogin('MLFLOW_HEALTH_USERNAME', 'username'),
      healthLogin('MLFLOW_HEALTH_PASSWORD', 'password'),
    ]);
    // A first start (both databases new): the same two containers side by side.
    const firstStart = renderMlflowManifests({
      ...baseOptions,
      migrationsSideBySide: true,
    }).migrationJob!.spec!.template.spec!;
    expect(firstStart.initContainers).toBeUndefined();
    expect(firstStart.containers).toEqual([trackingUpgrade, authUpgrade]);
    for (const c of [...job.initContainers!, ...job.containers]) {
      expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    }
    const anonymousJob =
      renderMlflowManifests(anonymousOptions).migrationJob!.spec!.template
        .spec!;
    expect(anonymousJob.initContainers).toBeUndefined();
    expect(anonymousJob.containers.map(c => c.args)).toEqual([
      ['db', 'upgrade', `$(${BACKEND_STORE_URI_KEY})`],
    ]);
    expect(job.restartPolicy).toBe('Never');
    const applyOrder = manifestsInApplyOrder(m).map(o => o.kind);
    expect(applyOrder.indexOf('Job')).toBeLessThan(
      applyOrder.indexOf('Deployment'),
    );
    const other = renderMlflowManifests({
      ...baseOptions,
      image: 'ghcr.io/acme/mlflow:3.2.0',
    });
    expect(other.migrationJob!.metadata!.name).not.toBe(
      m.migrationJob!.metadata!.name,
    );
    const resized = renderMlflowManifests({
      ...baseOptions,
      memoryLimit: '2Gi',
    });
    expect(resized.migrationJob!.metadata!.name).not.toBe(
      m.migrationJob!.metadata!.name,
    );
    expect(
      renderMlflowManifests(baseOptions).migrationJob!.metadata!.name,
    ).toBe(m.migrationJob!.metadata!.name);
  });

  it('keeps every process at peak under max_connections', () => {
    for (const [replicas, workers, max] of [
      [2, 2, 100],
      [3, 4, 400],
      [1, 1, 20],
    ]) {
      const pool = sizeConnectionPools({
        replicas,
        workers,
        dbMaxConnections: max,
      })!;
      const peak =
        ((replicas + 1) * workers + 1) * (pool.size + pool.maxOverflow);
      expect(peak).toBeLessThanOrEqual(max - 10);
      expect(pool.size).toBeGreaterThanOrEqual(1);
    }
    expect(
      sizeConnectionPools({ replicas: 10, workers: 8, dbMaxConnections: 50 }),
    ).toBeUndefined();
  });

  it('puts an ephemeral sqlite URI inline and runs no migration Job', () => {
    const e = renderMlflowManifests({
      ...anonymousOptions,
      backendStore: { kind: 'ephemeral', uri: 'sqlite:////tmp/mlflow.db' },
      artifactsDestination: '/tmp/artifacts',
    });
    expect(e.migrationJob).toBeUndefined();
    expect(e.deployment.spec!.template.spec!.containers[0].env).toEqual([
      { name: BACKEND_STORE_URI_KEY, value: 'sqlite:////tmp/mlflow.db' },
    ]);
    expect(
      e.deployment.metadata!.annotations!['mlflow.org/s3-artifact-root'],
    ).toBeUndefined();
  });
});
