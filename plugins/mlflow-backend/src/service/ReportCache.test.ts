import { CacheManager } from '@backstage/backend-defaults/cache';
import { mockServices } from '@backstage/backend-test-utils';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { ReportCache } from './ReportCache';

function report(checkedAt: Date): MlflowHealthReport {
  return {
    entityRef: 'component:default/prod',
    overall: 'healthy',
    checkedAt: checkedAt.toISOString(),
    checks: [],
    links: [],
  };
}

describe('ReportCache', () => {
  const shared = () =>
    CacheManager.fromConfig(mockServices.rootConfig()).forPlugin('mlflow');

  it('shares reports through the CacheService with other backend instances', async () => {
    const cache = shared();
    const fresh = report(new Date());
    await new ReportCache(cache, 30_000).set('k', fresh);
    await expect(new ReportCache(cache, 30_000).get('k')).resolves.toEqual(
      fresh,
    );
  });

  it('expires a report its TTL after checkedAt', async () => {
    const cache = shared();
    const reports = new ReportCache(cache, 30_000);
    await reports.set('old', report(new Date(Date.now() - 31_000)));
    await expect(reports.get('old')).resolves.toBeUndefined();
  });

  it('caches nothing with a TTL of 0', async () => {
    const cache = shared();
    const reports = new ReportCache(cache, 0);
    await reports.set('k', report(new Date()));
    await expect(reports.get('k')).resolves.toBeUndefined();
    await expect(cache.get('k')).resolves.toBeUndefined();
  });
});
