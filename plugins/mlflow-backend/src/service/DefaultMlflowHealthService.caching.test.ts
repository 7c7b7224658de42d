import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  check,
  createService,
  credentials,
  rdsMock,
  readyDeployment,
  s3Mock,
  useHealthServiceFixture,
} from './__testUtils__/healthServiceFixtures';

describe('DefaultMlflowHealthService', () => {
  const fixture = useHealthServiceFixture();

  describe('caching', () => {
    it('serves a second request from the cache and re-checks on refresh, at most once per interval', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        deployments: readyDeployment,
        health: { refreshMinIntervalSeconds: 60 },
      });
      const first = await service.getReport('component:default/prod', {
        credentials,
      });
      const second = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(second.checkedAt).toBe(first.checkedAt);
      expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(1);

      await new Promise(r => setTimeout(r, 5));
      const refreshed = await service.getReport('component:default/prod', {
        credentials,
        refresh: true,
      });
      expect(refreshed.checkedAt).not.toBe(first.checkedAt);
      expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);

      const limited = await service.getReport('component:default/prod', {
        credentials,
        refresh: true,
      });
      expect(limited.checkedAt).toBe(refreshed.checkedAt);
      expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
    });

    it('checks again once the report TTL has passed', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        health: { cacheTtlSeconds: 1 },
      });
      const first = await service.getReport('component:default/prod', {
        credentials,
      });
      await new Promise(r => setTimeout(r, 1100));
      const later = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(later.checkedAt).not.toBe(first.checkedAt);
      expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
    });

    it('checks again in the background near the expiry, serving the cached report meanwhile', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        deployments: readyDeployment,
        health: { cacheTtlSeconds: 2 },
      });
      const read = () =>
        service.getReport('component:default/prod', { credentials });
      // Only the clock is moved by hand: a real wait near the expiry would race a busy machine.
      jest.useFakeTimers({
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
        ],
      });
      try {
        const first = await read();
        const expiresAt = Date.parse(first.checkedAt) + 2000;
        // Past 80 % of the TTL: still served, and checked again behind it.
        jest.setSystemTime(expiresAt - 300);
        expect((await read()).checkedAt).toBe(first.checkedAt);
        let latest = first;
        for (let i = 0; i < 300 && latest.checkedAt === first.checkedAt; i++) {
          await new Promise(r => setTimeout(r, 10));
          latest = await read();
        }
        // The new report was made before the first expired, by one run of the checks.
        expect(latest.checkedAt).not.toBe(first.checkedAt);
        expect(Date.parse(latest.checkedAt)).toBeLessThan(expiresAt);
      } finally {
        jest.useRealTimers();
      }
      expect(
        fixture.mlflow.requests.filter(r => r.path === '/health'),
      ).toHaveLength(2);
    });

    it('keeps bucket settings under their own longer TTL: a refresh costs one HeadBucket', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        health: { refreshMinIntervalSeconds: 0 },
      });
      await service.getReport('component:default/prod', { credentials });
      s3Mock.resetHistory();
      const refreshed = await service.getReport('component:default/prod', {
        credentials,
        refresh: true,
      });
      expect(check(refreshed, 'artifactStore').status).toBe('ok');
      expect(s3Mock.calls().map(c => c.args[0].constructor.name)).toEqual([
        'HeadBucketCommand',
      ]);
    });

    it('shares one computation between concurrent requests', async () => {
      fixture.mlflow.state.delayMs = 50;
      const { service } = createService({ entities: [fixture.prodEntity()] });
      const reports = await Promise.all(
        Array.from({ length: 10 }, () =>
          service.getReport('component:default/prod', { credentials }),
        ),
      );
      expect(new Set(reports.map(r => r.checkedAt)).size).toBe(1);
      expect(
        fixture.mlflow.requests.filter(r => r.path === '/health'),
      ).toHaveLength(1);
    });
  });
});
