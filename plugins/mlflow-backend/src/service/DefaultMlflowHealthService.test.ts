import {
  DescribeDBInstancesCommand,
  DescribeDBInstancesCommandInput,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CacheManager } from '@backstage/backend-defaults/cache';
import { PermissionsService } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  MlflowCheckId,
  MlflowHealthCheck,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { mockClient } from 'aws-sdk-client-mock';
import {
  FakeKubernetesCalls,
  fakeKubernetes,
  fakeSecrets,
  identityTags,
  InMemoryRefreshLimiter,
  mlflowDeployment,
  mlflowEntity,
  rdsInstance,
  startFakeMlflowServer,
} from '../testUtils/healthFixtures';
import { healthPermissions } from '../testUtils/healthPermissions';
import { DefaultMlflowHealthService } from './DefaultMlflowHealthService';
import { TrackingUrlGuard } from './TrackingUrlGuard';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const credentials = mockCredentials.user();
/** The health user of the instance `prod`, as its health Secret holds it. */
const HEALTH_USER = { username: 'backstage-health', password: 'h3alth-pass' };

const TLS_ONLY_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
});

function awsError(name: string, httpStatusCode: number) {
  return Object.assign(new Error(name), {
    name,
    $metadata: { httpStatusCode },
  });
}

function compliantBucket() {
  s3Mock.reset();
  s3Mock.on(HeadBucketCommand).resolves({});
  s3Mock.on(GetBucketTaggingCommand).callsFake(async ({ Bucket }) => ({
    TagSet: identityTags(String(Bucket).replace(/-artifacts$/, '')),
  }));
  s3Mock.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });
  s3Mock.on(GetPublicAccessBlockCommand).resolves({
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    },
  });
  s3Mock.on(GetBucketEncryptionCommand).resolves({
    ServerSideEncryptionConfiguration: {
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } },
      ],
    },
  });
  s3Mock.on(GetBucketPolicyCommand).resolves({ Policy: TLS_ONLY_POLICY });
}

/** RDS answers from this table, honouring the db-instance-id filter like the real API. */
let rdsInstances: Record<string, ReturnType<typeof rdsInstance>>;
function rdsFromTable() {
  rdsMock.reset();
  rdsMock
    .on(DescribeDBInstancesCommand)
    .callsFake(async (input: DescribeDBInstancesCommandInput) => {
      const ids = input.Filters?.[0]?.Values ?? [];
      return {
        DBInstances: ids.flatMap(id =>
          rdsInstances[id] ? [rdsInstances[id]] : [],
        ),
      };
    });
}

type Setup = {
  entities: Entity[];
  health?: Record<string, unknown>;
  deployments?: Record<string, V1Deployment[]>;
  /** The decision on mlflow.instance.health.read; catalog.entity.read is allowed. */
  permission?: AuthorizeResult.ALLOW | AuthorizeResult.DENY;
  /** Replaces the permission service (conditional decisions). */
  permissions?: PermissionsService;
  /** Collects the AWS locations RDS clients are made for. */
  rdsLocations?: unknown[];
  refuseClusterWide?: boolean;
  hangingKubernetesCalls?: number;
};

function createService(setup: Setup, guard?: TrackingUrlGuard) {
  const config = new ConfigReader({
    backend: { baseUrl: 'http://localhost:7007', listen: { port: 7007 } },
    mlflow: {
      health: {
        allowedTrackingHosts: ['127.0.0.1', '*.localhost'],
        checkTimeoutMs: 1000,
        ...setup.health,
      },
    },
  });
  const catalog = catalogServiceMock({ entities: setup.entities });
  const permissions =
    setup.permissions ??
    healthPermissions(setup.permission ?? AuthorizeResult.ALLOW);
  const authorize = jest.spyOn(permissions, 'authorize');
  const authorizeConditional = jest.spyOn(permissions, 'authorizeConditional');
  const getEntitiesByRefs = jest.spyOn(catalog, 'getEntitiesByRefs');
  const kubeCalls: FakeKubernetesCalls = {
    listNamespacedDeployment: 0,
    listDeploymentForAllNamespaces: 0,
    listNamespacedIngress: 0,
    listIngressForAllNamespaces: 0,
  };
  const logger = mockServices.logger.mock();
  const service = DefaultMlflowHealthService.fromConfig(
    config,
    {
      catalog,
      auth: mockServices.auth({ pluginId: 'mlflow' }),
      permissions,
      cache: CacheManager.fromConfig(mockServices.rootConfig()).forPlugin(
        'mlflow',
      ),
      logger,
      refreshLimiter: new InMemoryRefreshLimiter(
        Number(setup.health?.refreshMinIntervalSeconds ?? 10) * 1000,
      ),
    },
    {
      rdsClientFor: async location => {
        setup.rdsLocations?.push(location);
        return new RDSClient({
          region: location.region,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        });
      },
      s3ClientFor: async ({ region }) =>
        new S3Client({
          region,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
      guard,
      secretsFor: fakeSecrets({
        'prod/prod-mlflow-health': HEALTH_USER,
      }),
      kubernetesApisFor: fakeKubernetes({
        deployments: setup.deployments ?? {},
        ingresses: {},
        refuseClusterWide: setup.refuseClusterWide,
        hangingCalls: setup.hangingKubernetesCalls,
        calls: kubeCalls,
      }),
    },
  );
  return {
    service,
    authorize,
    authorizeConditional,
    getEntitiesByRefs,
    kubeCalls,
    logger,
  };
}

function check<K extends MlflowCheckId>(
  report: MlflowHealthReport,
  id: K,
): Extract<MlflowHealthCheck, { id: K }> {
  return report.checks.find(c => c.id === id) as Extract<
    MlflowHealthCheck,
    { id: K }
  >;
}

describe('DefaultMlflowHealthService', () => {
  let mlflow: Awaited<ReturnType<typeof startFakeMlflowServer>>;

  beforeEach(async () => {
    mlflow = await startFakeMlflowServer({
      users: { [HEALTH_USER.username]: HEALTH_USER.password },
    });
    rdsInstances = { 'prod-db': rdsInstance('prod-db') };
    rdsFromTable();
    compliantBucket();
  });

  afterEach(async () => {
    await mlflow.stop();
  });

  function prodEntity(annotations: Record<string, string | undefined> = {}) {
    return mlflowEntity(
      'prod',
      {
        'mlflow.org/tracking-url': mlflow.url,
        'mlflow.org/auth-mode': 'basic-auth',
        'mlflow.org/auth-admin-secret': 'prod-mlflow-auth',
        'mlflow.org/health-secret': 'prod-mlflow-health',
        ...annotations,
      },
      'production',
    );
  }

  const readyDeployment = {
    prod: [mlflowDeployment('prod', { desired: 2, ready: 2 })],
  };

  it('reports healthy with every check ok, with details and links', async () => {
    const { service } = createService({
      entities: [prodEntity()],
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
      url: mlflow.url,
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
    expect(mlflow.requests.map(r => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /health',
      'GET /version',
      'GET /version',
      'POST /api/2.0/mlflow/experiments/search',
    ]);
  });

  describe('tracking server', () => {
    it('is an error when /health fails, making the instance unhealthy', async () => {
      mlflow.state.healthStatus = 503;
      const { service } = createService({ entities: [prodEntity()] });
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
      await mlflow.stop();
      const { service } = createService({ entities: [prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer')).toMatchObject({
        status: 'error',
        summary: expect.stringMatching(
          /does not answer \/health \(connection refused\)\.$/,
        ),
      });
      mlflow = await startFakeMlflowServer();
    });

    it('is an error when /health is OK but the backend store call fails', async () => {
      mlflow.state.searchStatus = 500;
      const { service } = createService({ entities: [prodEntity()] });
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
      mlflow.state.searchStatus = 401;
      const { service } = createService({ entities: [prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'trackingServer').status).toBe('warning');
    });

    it('fetches nothing from a host outside the allow-list', async () => {
      const { service } = createService({
        entities: [prodEntity()],
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
      expect(mlflow.requests).toEqual([]);
    });

    it('follows a redirect inside the allow-list and refuses one off it', async () => {
      const target = await startFakeMlflowServer();
      try {
        mlflow.state.redirectTo = `${target.url}/health`;
        const { service } = createService({ entities: [prodEntity()] });
        const followed = await service.getReport('component:default/prod', {
          credentials,
        });
        expect(target.requests.map(r => r.path)).toContain('/health');
        expect(check(followed, 'trackingServer').details?.live).toBe(true);

        mlflow.state.redirectTo = 'http://evil.example.org/health';
        const offList = await createService({
          entities: [prodEntity()],
        }).service.getReport('component:default/prod', { credentials });
        expect(check(offList, 'trackingServer')).toMatchObject({
          status: 'error',
          summary: expect.stringMatching(
            /redirected to a refused location: Host evil.example.org does not match/,
          ),
        });

        mlflow.state.redirectTo = 'http://169.254.169.254/latest/meta-data/';
        const metadata = await createService({
          entities: [prodEntity()],
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
            prodEntity({
              'mlflow.org/tracking-url': `http://rebind.localhost:${mlflow.port}`,
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
      expect(mlflow.requests.map(r => r.host)).toEqual(
        Array(4).fill(`rebind.localhost:${mlflow.port}`),
      );
    });

    it('never puts the credentials of a tracking URL in the report', async () => {
      const { service } = createService({
        entities: [
          prodEntity({
            'mlflow.org/tracking-url': `http://admin:s3cr3t@127.0.0.1:${mlflow.port}`,
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

  describe('timeouts', () => {
    it('bounds a hanging tracking server by the timeout while the other checks report', async () => {
      mlflow.state.delayMs = Infinity;
      const { service } = createService({
        entities: [prodEntity()],
        deployments: readyDeployment,
        health: { checkTimeoutMs: 300 },
      });
      const started = Date.now();
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(800);
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
        entities: [prodEntity()],
        deployments: readyDeployment,
        health: { checkTimeoutMs: 300 },
      });
      const started = Date.now();
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(Date.now() - started).toBeLessThan(800);
      expect(check(report, 'database')).toMatchObject({
        status: 'error',
        summary: 'No answer within 300 ms.',
      });
      expect(check(report, 'trackingServer').status).toBe('ok');
      expect(report.overall).toBe('unhealthy');
    });
    it('gives a hanging Kubernetes call its slot back after the timeout', async () => {
      const { service } = createService({
        entities: [prodEntity()],
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

  describe('database', () => {
    async function databaseCheck(
      instance: ReturnType<typeof rdsInstance> | undefined,
      lifecycle = 'production',
    ) {
      rdsInstances = instance ? { 'prod-db': instance } : {};
      const entity = prodEntity();
      entity.spec!.lifecycle = lifecycle;
      const report = await createService({
        entities: [entity],
        deployments: readyDeployment,
      }).service.getReport('component:default/prod', { credentials });
      return { report, database: check(report, 'database') };
    }

    it('is an error when the instance is stopped or gone', async () => {
      const stopped = await databaseCheck(
        rdsInstance('prod-db', { DBInstanceStatus: 'stopped' }),
      );
      expect(stopped.database).toMatchObject({
        status: 'error',
        summary: 'RDS instance prod-db is stopped, not available.',
      });
      expect(stopped.report.overall).toBe('unhealthy');
      const gone = await databaseCheck(undefined);
      expect(gone.database).toMatchObject({
        status: 'error',
        summary: 'RDS instance prod-db does not exist in eu-west-1.',
      });
    });

    it('is a warning while the instance is modified', async () => {
      const { database, report } = await databaseCheck(
        rdsInstance('prod-db', { DBInstanceStatus: 'modifying' }),
      );
      expect(database).toMatchObject({
        status: 'warning',
        summary: 'RDS instance prod-db is modifying.',
      });
      expect(report.overall).toBe('degraded');
    });

    it('is a warning when a compliance flag is off', async () => {
      const { database } = await databaseCheck(
        rdsInstance('prod-db', { PubliclyAccessible: true }),
      );
      expect(database).toMatchObject({
        status: 'warning',
        summary:
          'RDS instance prod-db is available; compliance off: Not publicly accessible.',
      });
    });

    it('requires Multi-AZ and deletion protection in production only', async () => {
      const single = rdsInstance('prod-db', {
        MultiAZ: false,
        DeletionProtection: false,
      });
      expect((await databaseCheck(single, 'production')).database.summary).toBe(
        'RDS instance prod-db is available; compliance off: Multi-AZ, Deletion protection.',
      );
      const dev = await databaseCheck(single, 'experimental');
      expect(dev.database.status).toBe('ok');
      expect(dev.database.details?.compliance).toContainEqual({
        id: 'multiAz',
        label: 'Multi-AZ',
        ok: false,
        required: false,
      });
    });
  });

  describe('artifact store', () => {
    async function artifactCheck() {
      const report = await createService({
        entities: [prodEntity()],
        deployments: readyDeployment,
      }).service.getReport('component:default/prod', { credentials });
      return check(report, 'artifactStore');
    }

    it('is a warning when versioning is suspended', async () => {
      s3Mock.on(GetBucketVersioningCommand).resolves({ Status: 'Suspended' });
      expect(await artifactCheck()).toMatchObject({
        status: 'warning',
        summary:
          'Bucket prod-artifacts is reachable; compliance off: Versioning enabled (versioning suspended).',
        details: { versioning: 'Suspended' },
      });
    });

    it('is a warning when the public access block, encryption or TLS policy is missing', async () => {
      s3Mock
        .on(GetPublicAccessBlockCommand)
        .rejects(awsError('NoSuchPublicAccessBlockConfiguration', 404));
      s3Mock
        .on(GetBucketEncryptionCommand)
        .rejects(
          awsError('ServerSideEncryptionConfigurationNotFoundError', 404),
        );
      s3Mock
        .on(GetBucketPolicyCommand)
        .rejects(awsError('NoSuchBucketPolicy', 404));
      expect(await artifactCheck()).toMatchObject({
        status: 'warning',
        summary:
          'Bucket prod-artifacts is reachable; compliance off: Public access blocked, Default encryption, TLS-only bucket policy.',
      });
    });

    it('is an error when the bucket does not exist or is not accessible', async () => {
      s3Mock.on(HeadBucketCommand).rejects(awsError('NotFound', 404));
      expect(await artifactCheck()).toMatchObject({
        status: 'error',
        summary: 'Bucket prod-artifacts does not exist.',
      });
      s3Mock.on(HeadBucketCommand).rejects(awsError('Forbidden', 403));
      expect((await artifactCheck()).summary).toBe(
        'Bucket prod-artifacts is not accessible (access denied).',
      );
    });
  });

  describe('kubernetes', () => {
    async function kubernetesCheck(
      deployments: Record<string, V1Deployment[]>,
      annotations: Record<string, string | undefined> = {},
    ) {
      const report = await createService({
        entities: [prodEntity(annotations)],
        deployments,
      }).service.getReport('component:default/prod', { credentials });
      return { report, kubernetes: check(report, 'kubernetes') };
    }

    it('is a warning when replicas are short, an error when none is ready or the Deployment is missing', async () => {
      expect(
        (
          await kubernetesCheck({
            prod: [mlflowDeployment('prod', { desired: 3, ready: 1 })],
          })
        ).kubernetes,
      ).toMatchObject({
        status: 'warning',
        summary: 'Deployment prod/prod: 1 of 3 replicas ready.',
      });
      const none = await kubernetesCheck({
        prod: [mlflowDeployment('prod', { desired: 2, ready: 0 })],
      });
      expect(none.kubernetes).toMatchObject({
        status: 'error',
        summary: 'Deployment prod/prod has no ready replica (0 of 2).',
      });
      expect(none.report.overall).toBe('degraded');
      expect((await kubernetesCheck({})).kubernetes).toMatchObject({
        status: 'error',
        summary:
          'No Deployment labelled app.kubernetes.io/instance=prod in local/prod.',
      });
    });

    it('is a warning during a rollout', async () => {
      expect(
        (
          await kubernetesCheck({
            prod: [
              mlflowDeployment('prod', { desired: 2, ready: 2, updated: 1 }),
            ],
          })
        ).kubernetes.summary,
      ).toBe('Deployment prod/prod: 1 of 2 replicas updated.');
    });

    it('is a warning while a surged pod of a rollout stays unavailable', async () => {
      expect(
        (
          await kubernetesCheck({
            prod: [
              mlflowDeployment('prod', {
                desired: 1,
                ready: 1,
                unavailable: 1,
              }),
            ],
          })
        ).kubernetes,
      ).toMatchObject({
        status: 'warning',
        summary: 'Deployment prod/prod: 1 unavailable.',
      });
    });

    it('is unknown for a cluster that is not configured', async () => {
      expect(
        (
          await kubernetesCheck(readyDeployment, {
            'mlflow.org/kubernetes-cluster': 'elsewhere',
          })
        ).kubernetes,
      ).toMatchObject({
        status: 'unknown',
        summary: expect.stringMatching(
          /^Not checked: Invalid mlflow.org\/kubernetes-cluster: received "elsewhere"/,
        ),
      });
    });
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
      entities: [prodEntity({ 'mlflow.org/rds-instance-id': 'Prod_DB' })],
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
      entities: [prodEntity()],
      deployments: readyDeployment,
    });
    const json = JSON.stringify(
      await service.getReport('component:default/prod', { credentials }),
    );
    expect(json).not.toContain('secretsmanager');
    expect(json).not.toContain('mlflow_admin');
  });

  describe('caching', () => {
    it('serves a second request from the cache and re-checks on refresh, at most once per interval', async () => {
      const { service } = createService({
        entities: [prodEntity()],
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
        entities: [prodEntity()],
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
        entities: [prodEntity()],
        deployments: readyDeployment,
        health: { cacheTtlSeconds: 2 },
      });
      const read = () =>
        service.getReport('component:default/prod', { credentials });
      const first = await read();
      const expiresAt = Date.parse(first.checkedAt) + 2000;
      // Past 80 % of the TTL: still served, and checked again behind it.
      await new Promise(r => setTimeout(r, 1700));
      expect((await read()).checkedAt).toBe(first.checkedAt);
      let latest = first;
      while (latest.checkedAt === first.checkedAt && Date.now() < expiresAt) {
        await new Promise(r => setTimeout(r, 10));
        latest = await read();
      }
      // The new report was made before the first expired, by one run of the checks.
      expect(Date.parse(latest.checkedAt)).toBeLessThan(expiresAt);
      expect(mlflow.requests.filter(r => r.path === '/health')).toHaveLength(2);
    });

    it('keeps bucket settings under their own longer TTL: a refresh costs one HeadBucket', async () => {
      const { service } = createService({
        entities: [prodEntity()],
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
      mlflow.state.delayMs = 50;
      const { service } = createService({ entities: [prodEntity()] });
      const reports = await Promise.all(
        Array.from({ length: 10 }, () =>
          service.getReport('component:default/prod', { credentials }),
        ),
      );
      expect(new Set(reports.map(r => r.checkedAt)).size).toBe(1);
      expect(mlflow.requests.filter(r => r.path === '/health')).toHaveLength(1);
    });
  });

  describe('fleet', () => {
    it('batches DescribeDBInstances by 100 ids, reads a bucket claimed by many once and bounds concurrency per host', async () => {
      const names = Array.from({ length: 250 }, (_, i) => `ml-${i}`);
      rdsInstances = Object.fromEntries(
        names.map(n => [`${n}-db`, rdsInstance(`${n}-db`)]),
      );
      mlflow.state.delayMs = 5;
      const { service } = createService({
        entities: names.map(n =>
          mlflowEntity(n, {
            'mlflow.org/tracking-url': mlflow.url,
            'mlflow.org/s3-artifact-root': `s3://shared-artifacts/${n}`,
          }),
        ),
        // 250 instances through 3 connections take seconds on a loaded machine: this test is about
        // batching and concurrency, so no check may time out while it waits for its turn.
        health: { maxConcurrencyPerHost: 3, checkTimeoutMs: 120_000 },
      });
      const { items } = await service.getReports(
        names.map(n => `component:default/${n}`),
        { credentials },
      );
      expect(items).toHaveLength(250);
      expect(
        items.every(
          item =>
            'report' in item && check(item.report, 'database').status === 'ok',
        ),
      ).toBe(true);
      const describes = rdsMock.commandCalls(DescribeDBInstancesCommand);
      expect(
        describes.map(c => c.args[0].input.Filters?.[0].Values?.length),
      ).toEqual([100, 100, 50]);
      // The bucket is tagged for an instance `shared`, none of these: refused, its tags read once.
      expect(
        items.every(
          item =>
            'report' in item &&
            check(item.report, 'artifactStore').summary ===
              "Bucket shared-artifacts is not this instance's (its stateful-mlflow/instance tag names another instance); it is not described.",
        ),
      ).toBe(true);
      expect(s3Mock.commandCalls(HeadBucketCommand)).toHaveLength(1);
      expect(s3Mock.commandCalls(GetBucketTaggingCommand)).toHaveLength(1);
      expect(s3Mock.commandCalls(GetBucketVersioningCommand)).toHaveLength(0);
      expect(mlflow.maxInFlight()).toBeLessThanOrEqual(3);
    }, 120_000);

    it('reads Kubernetes with two cluster-wide lists for many namespaces, namespaced lists when refused', async () => {
      const names = ['a', 'b', 'c'];
      const setup = {
        entities: names.map(n =>
          mlflowEntity(n, { 'mlflow.org/tracking-url': mlflow.url }),
        ),
        deployments: Object.fromEntries(
          names.map(n => [n, [mlflowDeployment(n, { desired: 1, ready: 1 })]]),
        ),
      };
      const refs = names.map(n => `component:default/${n}`);
      const wide = createService(setup);
      const { items } = await wide.service.getReports(refs, { credentials });
      expect(
        items.map(i => 'report' in i && check(i.report, 'kubernetes').summary),
      ).toEqual([
        'Deployment a/a: 1 of 1 replicas ready.',
        'Deployment b/b: 1 of 1 replicas ready.',
        'Deployment c/c: 1 of 1 replicas ready.',
      ]);
      expect(wide.kubeCalls).toEqual({
        listNamespacedDeployment: 0,
        listDeploymentForAllNamespaces: 1,
        listNamespacedIngress: 0,
        listIngressForAllNamespaces: 1,
      });

      const narrow = createService({ ...setup, refuseClusterWide: true });
      const fallback = await narrow.service.getReports(refs, { credentials });
      expect(
        fallback.items.every(
          i => 'report' in i && check(i.report, 'kubernetes').status === 'ok',
        ),
      ).toBe(true);
      expect(narrow.kubeCalls).toMatchObject({
        listNamespacedDeployment: 3,
        listNamespacedIngress: 3,
      });
    });

    it('answers per item: unknown and invisible refs are not found, denied ones not allowed', async () => {
      const { service, authorize, authorizeConditional } = createService({
        entities: [prodEntity()],
        permission: AuthorizeResult.DENY,
      });
      const { items } = await service.getReports(
        ['component:default/prod', 'component:default/ghost'],
        { credentials },
      );
      expect(items).toEqual([
        {
          entityRef: 'component:default/prod',
          error: {
            name: 'NotAllowedError',
            message:
              'You are not allowed to read the health of component:default/prod.',
          },
        },
        {
          entityRef: 'component:default/ghost',
          error: {
            name: 'NotFoundError',
            message: 'No entity component:default/ghost that you can see.',
          },
        },
      ]);
      expect(authorizeConditional).toHaveBeenCalledTimes(1);
      expect(authorizeConditional).toHaveBeenCalledWith(
        [
          {
            permission: expect.objectContaining({
              name: 'catalog.entity.read',
            }),
          },
          {
            permission: expect.objectContaining({
              name: 'mlflow.instance.health.read',
            }),
          },
        ],
        { credentials },
      );
      expect(authorize).not.toHaveBeenCalled();
      expect(mlflow.requests).toEqual([]);
    });
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
        entities: [prodEntity()],
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
      expect(mlflow.requests).toEqual([]);
    });

    it('reads the entities of concurrent requests with one catalog call', async () => {
      const { service, getEntitiesByRefs } = createService({
        entities: [
          prodEntity(),
          mlflowEntity('other', { 'mlflow.org/tracking-url': mlflow.url }),
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
        entities: [prodEntity()],
        permission: AuthorizeResult.DENY,
      });
      await expect(
        service.getReport('component:default/prod', { credentials }),
      ).rejects.toMatchObject({ name: 'NotAllowedError' });
    });

    it('refuses bad refs before reading the catalog', async () => {
      const { service, getEntitiesByRefs } = createService({
        entities: [prodEntity()],
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
  describe('identity and trust', () => {
    it('refuses an RDS instance tagged for another instance or owner, without describing it', async () => {
      rdsInstances = {
        'prod-db': rdsInstance('prod-db', { TagList: identityTags('other') }),
      };
      const { service } = createService({
        entities: [prodEntity()],
        deployments: readyDeployment,
      });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'database')).toEqual({
        id: 'database',
        status: 'error',
        summary:
          "RDS instance prod-db is not this instance's (its stateful-mlflow/instance tag names another instance); it is not described.",
        details: { instanceId: 'prod-db', region: 'eu-west-1', compliance: [] },
        latencyMs: expect.any(Number),
      });

      rdsInstances = {
        'prod-db': rdsInstance('prod-db', {
          TagList: identityTags('prod', 'group:default/intruders'),
        }),
      };
      const other = createService({ entities: [prodEntity()] });
      expect(
        check(
          await other.service.getReport('component:default/prod', {
            credentials,
          }),
          'database',
        ).summary,
      ).toBe(
        "RDS instance prod-db is not this instance's (its owner tag names another owner); it is not described.",
      );

      rdsInstances = {
        'prod-db': rdsInstance('prod-db', { TagList: [] }),
      };
      const untagged = createService({ entities: [prodEntity()] });
      expect(
        check(
          await untagged.service.getReport('component:default/prod', {
            credentials,
          }),
          'database',
        ).summary,
      ).toBe(
        "RDS instance prod-db is not this instance's (it has no stateful-mlflow/instance tag); it is not described.",
      );
    });

    it('accepts resources tagged with the instance name alone (no owner recorded)', async () => {
      rdsInstances = {
        'prod-db': rdsInstance('prod-db', {
          TagList: [{ Key: 'stateful-mlflow/instance', Value: 'prod' }],
        }),
      };
      const { service } = createService({ entities: [prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'database').status).toBe('ok');
    });

    it('refuses a bucket of another owner and reads none of its settings', async () => {
      s3Mock
        .on(GetBucketTaggingCommand)
        .resolves({ TagSet: identityTags('prod', 'group:default/intruders') });
      const { service } = createService({ entities: [prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'artifactStore')).toMatchObject({
        status: 'error',
        summary:
          "Bucket prod-artifacts is not this instance's (its owner tag names another owner); it is not described.",
        details: { bucket: 'prod-artifacts', compliance: [] },
      });
      expect(check(report, 'artifactStore').details).not.toHaveProperty(
        'versioning',
      );
      expect(s3Mock.commandCalls(GetBucketVersioningCommand)).toHaveLength(0);
      expect(s3Mock.commandCalls(GetBucketPolicyCommand)).toHaveLength(0);
    });

    it("refuses a Deployment whose owner annotation names another owner, and picks the instance's own", async () => {
      const forged = mlflowDeployment('prod', { desired: 1, ready: 1 });
      forged.metadata!.name = 'a-forged';
      forged.metadata!.annotations = {
        'mlflow.org/owner': 'group:default/intruders',
      };
      const own = mlflowDeployment('prod', { desired: 2, ready: 2 });
      own.metadata!.annotations = {
        'mlflow.org/owner': 'group:default/team-ml',
      };

      const alone = createService({
        entities: [prodEntity()],
        deployments: { prod: [forged] },
      });
      expect(
        check(
          await alone.service.getReport('component:default/prod', {
            credentials,
          }),
          'kubernetes',
        ),
      ).toEqual({
        id: 'kubernetes',
        status: 'error',
        summary:
          "Deployment prod/a-forged is not this instance's (its mlflow.org/owner annotation names another owner); it is not described.",
        latencyMs: expect.any(Number),
      });

      const both = createService({
        entities: [prodEntity()],
        deployments: { prod: [forged, own] },
      });
      const report = await both.service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'kubernetes')).toMatchObject({
        status: 'ok',
        details: { deployment: 'prod' },
      });
    });

    it('uses neither the tracking URL nor the AWS identifiers of an entity the provider did not mark trusted', async () => {
      for (const annotations of [
        { 'mlflow.org/trusted': undefined },
        // A catalog-info.yaml cannot claim the provider's origin, so the marker alone is not enough.
        {
          'backstage.io/managed-by-origin-location':
            'url:https://example.com/catalog-info.yaml',
        },
      ]) {
        mlflow.requests.length = 0;
        rdsMock.resetHistory();
        s3Mock.resetHistory();
        const { service } = createService({
          entities: [prodEntity(annotations)],
          deployments: readyDeployment,
        });
        const report = await service.getReport('component:default/prod', {
          credentials,
        });
        expect(report.checks.map(c => [c.id, c.status])).toEqual([
          ['trackingServer', 'unknown'],
          ['database', 'unknown'],
          ['artifactStore', 'unknown'],
          ['kubernetes', 'ok'],
        ]);
        expect(check(report, 'database').summary).toBe(
          'Not checked: the entity is not marked mlflow.org/trusted by the MLflow entity provider, so its tracking URL and AWS identifiers are not used.',
        );
        expect(report.links).toEqual([]);
        expect(mlflow.requests).toEqual([]);
        expect(rdsMock.calls()).toHaveLength(0);
        expect(s3Mock.calls()).toHaveLength(0);
      }
    });

    it('puts raw AWS errors (role ARNs, addresses) in the log, never in a summary', async () => {
      const arn = 'arn:aws:sts::123456789012:assumed-role/backstage/session';
      rdsMock
        .on(DescribeDBInstancesCommand)
        .rejects(
          Object.assign(
            new Error(
              `User: ${arn} is not authorized to perform: rds:DescribeDBInstances`,
            ),
            { name: 'AccessDenied' },
          ),
        );
      s3Mock
        .on(HeadBucketCommand)
        .rejects(new Error(`socket hang up talking to 10.20.30.40 as ${arn}`));
      const { service, logger } = createService({
        entities: [prodEntity()],
        deployments: readyDeployment,
      });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'database')).toMatchObject({
        status: 'error',
        summary:
          'Could not describe RDS instance prod-db in eu-west-1; the AWS error is in the backend log.',
      });
      expect(check(report, 'artifactStore')).toMatchObject({
        status: 'error',
        summary:
          'Bucket prod-artifacts is not reachable; the AWS error is in the backend log.',
      });
      const text = JSON.stringify(report);
      expect(text).not.toContain(arn);
      expect(text).not.toContain('10.20.30.40');
      const logged = (logger.warn as jest.Mock).mock.calls
        .map(c => c[0])
        .join('\n');
      expect(logged).toContain(arn);
      expect(logged).toContain('10.20.30.40');
    });

    it('describes through the instance account named by mlflow.org/aws-account-id, and refuses a malformed one', async () => {
      const locations: unknown[] = [];
      const { service } = createService({
        entities: [
          prodEntity({ 'mlflow.org/aws-account-id': '210987654321' }),
          mlflowEntity('bad', { 'mlflow.org/aws-account-id': '12345' }),
        ],
        deployments: readyDeployment,
        rdsLocations: locations,
      });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'database').status).toBe('ok');
      // DescribeDBInstances, then DescribeDBSnapshots for this one entity's report.
      expect(locations).toEqual([
        { region: 'eu-west-1', accountId: '210987654321' },
        { region: 'eu-west-1', accountId: '210987654321' },
      ]);
      const bad = await service.getReport('component:default/bad', {
        credentials,
      });
      expect(check(bad, 'database')).toMatchObject({
        status: 'unknown',
        summary:
          'Not checked: Invalid mlflow.org/aws-account-id: received "12345", but it must be 12 digits. Accepted: an AWS account id such as 123456789012.',
      });
      expect(check(bad, 'artifactStore').status).toBe('unknown');
    });
  });

  describe('conditional permission decisions', () => {
    function conditionalPermissions(
      conditions: PolicyDecision,
      fallback:
        | AuthorizeResult.ALLOW
        | AuthorizeResult.DENY = AuthorizeResult.DENY,
    ): PermissionsService {
      // catalog.entity.read is allowed; the conditions are the health read's.
      return {
        authorizeConditional: async queries =>
          queries.map(({ permission }) =>
            permission.name === 'catalog.entity.read'
              ? { result: AuthorizeResult.ALLOW }
              : conditions,
          ),
        authorize: async requests => requests.map(() => ({ result: fallback })),
      } as PermissionsService;
    }

    const owned = (name: string, owner: string) => {
      const entity = mlflowEntity(name, {});
      entity.relations = [{ type: 'ownedBy', targetRef: owner }];
      return entity;
    };

    it("applies the catalog's conditions to the entities already read, with one policy call", async () => {
      const { service, authorize, authorizeConditional, getEntitiesByRefs } =
        createService({
          entities: [
            owned('mine', 'group:default/team-ml'),
            owned('theirs', 'group:default/others'),
          ],
          permissions: conditionalPermissions({
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: {
              rule: 'IS_ENTITY_OWNER',
              resourceType: 'catalog-entity',
              params: { claims: ['group:default/team-ml'] },
            },
          }),
        });
      const { items } = await service.getReports(
        ['component:default/mine', 'component:default/theirs'],
        { credentials },
      );
      expect(items.map(i => ('report' in i ? 'report' : i.error.name))).toEqual(
        ['report', 'NotAllowedError'],
      );
      expect(authorizeConditional).toHaveBeenCalledTimes(1);
      expect(getEntitiesByRefs).toHaveBeenCalledTimes(1);
      expect(authorize).not.toHaveBeenCalled();
    });

    it("applies the catalog's read conditions too: an entity the caller cannot see is not found", async () => {
      const ownedOnly: PolicyDecision = {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims: ['group:default/team-ml'] },
        },
      };
      const { service, authorize } = createService({
        entities: [
          owned('mine', 'group:default/team-ml'),
          owned('theirs', 'group:default/others'),
        ],
        permissions: {
          authorizeConditional: async queries =>
            queries.map(({ permission }) =>
              permission.name === 'catalog.entity.read'
                ? ownedOnly
                : { result: AuthorizeResult.ALLOW },
            ),
          authorize: async requests =>
            requests.map(() => ({ result: AuthorizeResult.DENY })),
        } as PermissionsService,
      });
      const { items } = await service.getReports(
        ['component:default/mine', 'component:default/theirs'],
        { credentials },
      );
      expect(items.map(i => ('report' in i ? 'report' : i.error.name))).toEqual(
        ['report', 'NotFoundError'],
      );
      expect(authorize).not.toHaveBeenCalled();
    });

    it('falls back to the framework for a rule it does not know', async () => {
      const { service, authorize } = createService({
        entities: [owned('mine', 'group:default/team-ml')],
        permissions: conditionalPermissions(
          {
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: {
              rule: 'HAS_CUSTOM_THING',
              resourceType: 'catalog-entity',
              params: {},
            },
          },
          AuthorizeResult.ALLOW,
        ),
      });
      const report = await service.getReport('component:default/mine', {
        credentials,
      });
      expect(report.entityRef).toBe('component:default/mine');
      expect(authorize).toHaveBeenCalledWith(
        [
          {
            permission: expect.objectContaining({
              name: 'mlflow.instance.health.read',
            }),
            resourceRef: 'component:default/mine',
          },
        ],
        { credentials },
      );
    });
  });
});
