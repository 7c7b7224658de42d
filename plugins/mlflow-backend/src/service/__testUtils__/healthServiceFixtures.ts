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
import { AuthorizeResult } from '@backstage/plugin-permission-common';
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
} from '../../testUtils/healthFixtures';
import { healthPermissions } from '../../testUtils/healthPermissions';
import { DefaultMlflowHealthService } from '../DefaultMlflowHealthService';
import { TrackingUrlGuard } from '../TrackingUrlGuard';

/*
 * What the unit tests of DefaultMlflowHealthService share: AWS mocked with aws-sdk-client-mock, a
 * fake MLflow server, fake Kubernetes and Secrets, and the service wired to them as the plugin
 * wires it.
 */

export const rdsMock = mockClient(RDSClient);
export const s3Mock = mockClient(S3Client);
export const credentials = mockCredentials.user();
/** The health user of the instance `prod`, as its health Secret holds it. */
export const HEALTH_USER = {
  username: 'backstage-health',
  password: 'h3alth-pass',
};

export type FakeMlflowServer = Awaited<
  ReturnType<typeof startFakeMlflowServer>
>;

/** The RDS instances DescribeDBInstances knows, by identifier. */
export type RdsInstances = Record<string, ReturnType<typeof rdsInstance>>;

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

export function awsError(name: string, httpStatusCode: number) {
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
function rdsFromTable(table: () => RdsInstances) {
  rdsMock.reset();
  rdsMock
    .on(DescribeDBInstancesCommand)
    .callsFake(async (input: DescribeDBInstancesCommandInput) => {
      const ids = input.Filters?.[0]?.Values ?? [];
      return {
        DBInstances: ids.flatMap(id => (table()[id] ? [table()[id]] : [])),
      };
    });
}

/**
 * Resets both AWS mocks: RDS describes the instances `table` returns when it is called (a test
 * may replace the table), and every bucket is compliant and tagged for its instance.
 */
export function mockCompliantAws(table: () => RdsInstances) {
  rdsFromTable(table);
  compliantBucket();
}

/** The trusted entity of the instance `prod` (production) whose tracking server is at `url`. */
export function prodMlflowEntity(
  url: string,
  annotations: Record<string, string | undefined> = {},
) {
  return mlflowEntity(
    'prod',
    {
      'mlflow.org/tracking-url': url,
      'mlflow.org/auth-mode': 'basic-auth',
      'mlflow.org/auth-admin-secret': 'prod-mlflow-auth',
      'mlflow.org/health-secret': 'prod-mlflow-health',
      ...annotations,
    },
    'production',
  );
}

/** What a test of the service reads and may replace; the hooks of useHealthServiceFixture set it. */
export type HealthServiceFixture = {
  /**
   * The tracking server of `prod`, which knows the health user. A test may stop it and put another
   * server here: afterEach stops whichever is here (stopping a stopped server is harmless).
   */
  mlflow: FakeMlflowServer;
  /** The RDS instances DescribeDBInstances knows, read at each call: a test may replace them. */
  rdsInstances: RdsInstances;
  /** The trusted entity of `prod`, pointing at the current `mlflow`. */
  prodEntity(annotations?: Record<string, string | undefined>): Entity;
};

/**
 * Registers the beforeEach and afterEach of the service's unit tests: a fresh tracking server of
 * `prod`, its RDS instance `prod-db` and compliant AWS before each test, the server stopped after.
 */
export function useHealthServiceFixture(): HealthServiceFixture {
  const fixture = {
    prodEntity: (annotations: Record<string, string | undefined> = {}) =>
      prodMlflowEntity(fixture.mlflow.url, annotations),
  } as HealthServiceFixture;

  beforeEach(async () => {
    fixture.mlflow = await startFakeMlflowServer({
      users: { [HEALTH_USER.username]: HEALTH_USER.password },
    });
    fixture.rdsInstances = { 'prod-db': rdsInstance('prod-db') };
    mockCompliantAws(() => fixture.rdsInstances);
  });

  afterEach(async () => {
    await fixture.mlflow.stop();
  });

  return fixture;
}

/** The Deployment of `prod`, every replica ready. */
export const readyDeployment = {
  prod: [mlflowDeployment('prod', { desired: 2, ready: 2 })],
};

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

export function createService(setup: Setup, guard?: TrackingUrlGuard) {
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

export function check<K extends MlflowCheckId>(
  report: MlflowHealthReport,
  id: K,
): Extract<MlflowHealthCheck, { id: K }> {
  return report.checks.find(c => c.id === id) as Extract<
    MlflowHealthCheck,
    { id: K }
  >;
}
