import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  check,
  createService,
  credentials,
  rdsMock,
  readyDeployment,
  useHealthServiceFixture,
} from './__testUtils__/healthServiceFixtures';

// Above the bounds that tell a timeout from a hang, so a busy machine fails neither.
jest.setTimeout(90_000);

describe('DefaultMlflowHealthService', () => {
  const fixture = useHealthServiceFixture();

  describe('timeouts', () => {
    it('bounds a hanging tracking server by the timeout while the other checks report', async () => {
      fixture.mlflow.state.delayMs = Infinity;
      const { service } = createService({
        entities: [fixture.prodEntity()],
        deployments: readyDeployment,
        health: { checkTimeoutMs: 300 },
      });
      const started = Date.now();
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      // Ended by the 300 ms timeout, not by the hang (which lasts forever): the margin is for a
      // busy machine, not a speed claim.
      expect(elapsed).toBeLessThan(30_000);
      expect(check(report, 'trackingServer')).toMatchObject({
        status: 'error',
        summary: 'No answer within 300 ms.',
      });
      expect(check(report, 'trackingServer').latencyMs).toBeGreaterThanOrEqual(
        290,
      );
      expect(check(report, 'database').status).toBe('ok');
      expect(check(report, 'artifactStore').status).toBe('ok');
      expect(check(report, 'kubernetes').status).toBe('ok');
    });

    it('bounds a hanging AWS call by the timeout', async () => {
      rdsMock.reset();
      rdsMock
        .on(DescribeDBInstancesCommand)
        .callsFake(() => new Promise(() => {}));
      const { service } = createService({
        entities: [fixture.prodEntity()],
        deployments: readyDeployment,
        health: { checkTimeoutMs: 300 },
      });
      const started = Date.now();
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(check(report, 'database')).toMatchObject({
        status: 'error',
        summary: 'No answer within 300 ms.',
      });
      expect(check(report, 'trackingServer').status).toBe('ok');
      expect(report.overall).toBe('unhealthy');
    });
    it('gives a hanging Kubernetes call its slot back after the timeout', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        deployments: readyDeployment,
        hangingKubernetesCalls: 1,
        health: {
          checkTimeoutMs: 300,
          maxConcurrencyPerHost: 1,
          refreshMinIntervalSeconds: 0,
        },
      });
      const first = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(first, 'kubernetes').summary).toBe(
        'No answer within 300 ms.',
      );
      await new Promise(r => setTimeout(r, 50));
      const second = await service.getReport('component:default/prod', {
        credentials,
        refresh: true,
      });
      expect(check(second, 'kubernetes').status).toBe('ok');
    });
  });
});
