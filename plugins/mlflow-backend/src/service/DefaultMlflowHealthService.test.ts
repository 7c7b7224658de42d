import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { mockCredentials } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { mlflowEntity } from '../testUtils/healthFixtures';
import { healthPermissions } from '../testUtils/healthPermissions';
import {
  check,
  createService,
  credentials,
  rdsMock,
  readyDeployment,
  useHealthServiceFixture,
} from './__testUtils__/healthServiceFixtures';

describe('DefaultMlflowHealthService', () => {
  const fixture = useHealthServiceFixture();

  it('reports healthy with every check ok, with details and links', async () => {
    const { service } = createService({
      entities: [fixture.prodEntity()],
      deployments: readyDeployment,
    });
    const report = await service.getReport('component:default/prod', {
      credentials,
    });
    expect(report.overall).toBe('healthy');
    expect(report.checks.map(c => [c.id, c.status])).toEqual([
      ['trackingServer', 'ok'],
      ['database', 'ok'],
      ['artifactStore', 'ok'],
      ['kubernetes', 'ok'],
    ]);
    expect(check(report, 'trackingServer').details).toEqual({
      url: fixture.mlflow.url,
      version: '3.1.0',
      live: true,
      backendStoreReachable: true,
      authMode: 'basic-auth',
      adminSecretName: 'prod-mlflow-auth',
      compliance: [
        expect.objectContaining({ id: 'authentication', ok: true }),
        expect.objectContaining({ id: 'https', ok: true }),
      ],
    });
    expect(check(report, 'database').details).toMatchObject({
      instanceId: 'prod-db',
      status: 'available',
      engine: 'postgres',
      multiAz: true,
      compliance: expect.arrayContaining([
        { id: 'multiAz', label: 'Multi-AZ', ok: true, required: true },
      ]),
    });
    expect(check(report, 'artifactStore').details).toMatchObject({
      bucket: 'prod-artifacts',
      prefix: 'mlflow',
      versioning: 'Enabled',
      encryption: 'aws:kms',
      publicAccessBlocked: true,
      tlsOnlyPolicy: true,
    });
    expect(check(report, 'kubernetes').details).toMatchObject({
      replicas: { desired: 2, ready: 2, updated: 2, available: 2 },
      image: 'ghcr.io/mlflow/mlflow:v3.1.0',
    });
    expect(report.links.map(l => l.title)).toEqual([
      'MLflow UI',
      'RDS instance (AWS console)',
      'S3 bucket (AWS console)',
    ]);
    expect(
      fixture.mlflow.requests.map(r => `${r.method} ${r.path}`).sort(),
    ).toEqual([
      'GET /health',
      'GET /version',
      'GET /version',
      'POST /api/2.0/mlflow/experiments/search',
    ]);
  });

  it('reports unknown, naming the missing annotation, for each check without one', async () => {
    const { service } = createService({
      entities: [
        mlflowEntity('bare', {
          'mlflow.org/tracking-url': undefined,
          'mlflow.org/rds-instance-id': undefined,
          'mlflow.org/s3-artifact-root': undefined,
          'mlflow.org/kubernetes-cluster': undefined,
        }),
      ],
    });
    const report = await service.getReport('component:default/bare', {
      credentials,
    });
    expect(report.overall).toBe('unknown');
    expect(report.checks.map(c => c.summary)).toEqual([
      'Not checked: the entity has no mlflow.org/tracking-url annotation.',
      'Not checked: the entity has no mlflow.org/rds-instance-id annotation.',
      'Not checked: the entity has no mlflow.org/s3-artifact-root annotation.',
      'Not checked: the entity has no mlflow.org/kubernetes-cluster annotation.',
    ]);
  });

  it('refuses an annotation value that breaks a naming rule without calling AWS', async () => {
    const { service } = createService({
      entities: [
        fixture.prodEntity({ 'mlflow.org/rds-instance-id': 'Prod_DB' }),
      ],
    });
    const report = await service.getReport('component:default/prod', {
      credentials,
    });
    expect(check(report, 'database')).toMatchObject({
      status: 'unknown',
      summary: expect.stringMatching(
        /^Not checked: Invalid mlflow.org\/rds-instance-id \(RDS instance identifier\): received "Prod_DB"/,
      ),
    });
    expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(0);
  });

  it('keeps secrets out of the report', async () => {
    const { service } = createService({
      entities: [fixture.prodEntity()],
      deployments: readyDeployment,
    });
    const json = JSON.stringify(
      await service.getReport('component:default/prod', { credentials }),
    );
    expect(json).not.toContain('secretsmanager');
    expect(json).not.toContain('mlflow_admin');
  });

  describe('visibility and input', () => {
    it('reads the entity as the plugin and throws NotFoundError when there is none', async () => {
      const { service, getEntitiesByRefs } = createService({ entities: [] });
      await expect(
        service.getReport('component:default/prod', { credentials }),
      ).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(getEntitiesByRefs).toHaveBeenCalledWith(
        { entityRefs: ['component:default/prod'] },
        { credentials: mockCredentials.service('plugin:mlflow') },
      );
    });

    it('throws NotFoundError, not NotAllowedError, when the caller may not read the entity in the catalog', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        permissions: healthPermissions(
          AuthorizeResult.ALLOW,
          AuthorizeResult.DENY,
        ),
      });
      await expect(
        service.getReport('component:default/prod', { credentials }),
      ).rejects.toMatchObject({
        name: 'NotFoundError',
        message: 'No entity component:default/prod that you can see.',
      });
      expect(fixture.mlflow.requests).toEqual([]);
    });

    it('reads the entities of concurrent requests with one catalog call', async () => {
      const { service, getEntitiesByRefs } = createService({
        entities: [
          fixture.prodEntity(),
          mlflowEntity('other', {
            'mlflow.org/tracking-url': fixture.mlflow.url,
          }),
        ],
      });
      const [prod, other] = await Promise.all([
        service.getReport('component:default/prod', { credentials }),
        service.getReport('component:default/other', { credentials }),
      ]);
      expect([prod.entityRef, other.entityRef]).toEqual([
        'component:default/prod',
        'component:default/other',
      ]);
      expect(getEntitiesByRefs).toHaveBeenCalledTimes(1);
      expect(getEntitiesByRefs).toHaveBeenCalledWith(
        { entityRefs: ['component:default/prod', 'component:default/other'] },
        expect.anything(),
      );
    });

    it('throws NotAllowedError without the permission', async () => {
      const { service } = createService({
        entities: [fixture.prodEntity()],
        permission: AuthorizeResult.DENY,
      });
      await expect(
        service.getReport('component:default/prod', { credentials }),
      ).rejects.toMatchObject({ name: 'NotAllowedError' });
    });

    it('refuses bad refs before reading the catalog', async () => {
      const { service, getEntitiesByRefs } = createService({
        entities: [fixture.prodEntity()],
      });
      await expect(
        service.getReports(['component:default/prod', 'prod'], { credentials }),
      ).rejects.toThrow(
        /^Invalid entityRefs\[1\]: received "prod", but .*Accepted: an entity ref such as component:default\/mlflow-prod\.$/,
      );
      await expect(service.getReports([], { credentials })).rejects.toThrow(
        'Invalid entityRefs: received an empty list, but it must be a list of 1 to 1000 entity refs such as component:default/mlflow-prod.',
      );
      expect(getEntitiesByRefs).not.toHaveBeenCalled();
    });
  });
});
