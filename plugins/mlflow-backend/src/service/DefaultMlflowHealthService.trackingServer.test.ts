import { startFakeMlflowServer } from '../testUtils/healthFixtures';
import {
  check,
  createService,
  credentials,
  useHealthServiceFixture,
} from './__testUtils__/healthServiceFixtures';
import { TrackingUrlGuard } from './TrackingUrlGuard';

describe('DefaultMlflowHealthService', () => {
  const fixture = useHealthServiceFixture();

  describe('tracking server', () => {
    it('is an error when /health fails, making the instance unhealthy', async () => {
      fixture.mlflow.state.healthStatus = 503;
      const { service } = createService({ entities: [fixture.prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer')).toMatchObject({
        status: 'error',
        summary: 'Tracking server answered /health with HTTP 503.',
      });
      expect(report.overall).toBe('unhealthy');
    });

    it('is an error when the server is stopped', async () => {
      await fixture.mlflow.stop();
      const { service } = createService({ entities: [fixture.prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer')).toMatchObject({
        status: 'error',
        summary: expect.stringMatching(
          /does not answer \/health \(connection refused\)\.$/,
        ),
      });
      fixture.mlflow = await startFakeMlflowServer();
    });

    it('is an error when /health is OK but the backend store call fails', async () => {
      fixture.mlflow.state.searchStatus = 500;
      const { service } = createService({ entities: [fixture.prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer')).toMatchObject({
        status: 'error',
        summary:
          'Tracking server is live but cannot read its backend store (experiments/search answered HTTP 500).',
        details: { live: true, backendStoreReachable: false },
      });
    });

    it('is a warning when the server asks for authentication', async () => {
      fixture.mlflow.state.searchStatus = 401;
      const { service } = createService({ entities: [fixture.prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer').status).toBe('warning');
    });

    it('fetches nothing from a host outside the allow-list', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        health: { allowedTrackingHosts: ['*.mlflow.example.com'] },
      });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer')).toMatchObject({
        status: 'unknown',
        summary:
          'Not checked: Host 127.0.0.1 does not match mlflow.health.allowedTrackingHosts (*.mlflow.example.com).',
      });
      expect(fixture.mlflow.requests).toEqual([]);
    });

    it('follows a redirect inside the allow-list and refuses one off it', async () => {
      const target = await startFakeMlflowServer();
      try {
        fixture.mlflow.state.redirectTo = `${target.url}/health`;
        const { service } = createService({ entities: [fixture.prodEntity()] });
        const followed = await service.getReport('component:default/prod', {
          credentials,
        });
        expect(target.requests.map(r => r.path)).toContain('/health');
        expect(check(followed, 'trackingServer').details?.live).toBe(true);

        fixture.mlflow.state.redirectTo = 'http://evil.example.org/health';
        const offList = await createService({
          entities: [fixture.prodEntity()],
        }).service.getReport('component:default/prod', { credentials });
        expect(check(offList, 'trackingServer')).toMatchObject({
          status: 'error',
          summary: expect.stringMatching(
            /redirected to a refused location: Host evil.example.org does not match/,
          ),
        });

        fixture.mlflow.state.redirectTo =
          'http://169.254.169.254/latest/meta-data/';
        const metadata = await createService({
          entities: [fixture.prodEntity()],
          health: { allowedTrackingHosts: ['127.0.0.1', '169.254.*'] },
        }).service.getReport('component:default/prod', { credentials });
        expect(check(metadata, 'trackingServer')).toMatchObject({
          status: 'error',
          summary: expect.stringMatching(
            /redirected to a refused location: .*cloud metadata address/,
          ),
        });
      } finally {
        await target.stop();
      }
    });

    it('resolves the host once and connects to the checked address (no DNS rebinding)', async () => {
      const answers = ['127.0.0.1', '169.254.169.254'];
      const lookup = jest.fn(async () => [
        { address: answers.shift() ?? '169.254.169.254', family: 4 as const },
      ]);
      const guard = new TrackingUrlGuard({
        allowedHosts: ['*.localhost'],
        backendPorts: [7007],
        lookup,
        localAddresses: () => [],
      });
      const { service } = createService(
        {
          entities: [
            fixture.prodEntity({
              'mlflow.org/tracking-url': `http://rebind.localhost:${fixture.mlflow.port}`,
            }),
          ],
        },
        guard,
      );
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer').status).toBe('ok');
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(fixture.mlflow.requests.map(r => r.host)).toEqual(
        Array(4).fill(`rebind.localhost:${fixture.mlflow.port}`),
      );
    });

    it('never puts the credentials of a tracking URL in the report', async () => {
      const { service } = createService({
        entities: [
          fixture.prodEntity({
            'mlflow.org/tracking-url': `http://admin:s3cr3t@127.0.0.1:${fixture.mlflow.port}`,
          }),
        ],
      });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      const json = JSON.stringify(report);
      expect(json).not.toContain('s3cr3t');
      expect(json).not.toContain('admin');
      expect(check(report, 'trackingServer').summary).toMatch(
        /carries credentials/,
      );
    });
  });
});
