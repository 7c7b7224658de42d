import {
  DescribeDBInstancesCommand,
  DescribeDBInstancesCommandInput,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CacheManager } from '@backstage/backend-defaults/cache';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  MlflowDatabaseDetails,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { mockClient } from 'aws-sdk-client-mock';
import {
  fakeKubernetes,
  fakeSecrets,
  InMemoryRefreshLimiter,
  mlflowEntity,
  rdsInstance,
} from '../testUtils/healthFixtures';
import { healthPermissions } from '../testUtils/healthPermissions';
import { DefaultMlflowHealthService } from './DefaultMlflowHealthService';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const credentials = mockCredentials.user();

function database(report: MlflowHealthReport) {
  return report.checks.find(c => c.id === 'database')?.details as
    | MlflowDatabaseDetails
    | undefined;
}

function createService(names: string[]) {
  return DefaultMlflowHealthService.fromConfig(
    new ConfigReader({
      backend: { baseUrl: 'http://localhost:7007', listen: { port: 7007 } },
      mlflow: {
        health: { allowedTrackingHosts: ['*.localhost'], checkTimeoutMs: 1000 },
      },
    }),
    {
      catalog: catalogServiceMock({
        entities: names.map(n => mlflowEntity(n)),
      }),
      auth: mockServices.auth({ pluginId: 'mlflow' }),
      permissions: healthPermissions(AuthorizeResult.ALLOW),
      cache: CacheManager.fromConfig(mockServices.rootConfig()).forPlugin(
        'mlflow',
      ),
      logger: mockServices.logger.mock(),
      refreshLimiter: new InMemoryRefreshLimiter(10_000),
    },
    {
      rdsClientFor: async ({ region }) =>
        new RDSClient({
          region,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
      s3ClientFor: async ({ region }) =>
        new S3Client({
          region,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
      secretsFor: fakeSecrets({}),
      kubernetesApisFor: fakeKubernetes({ deployments: {} }),
    },
  );
}

describe('DefaultMlflowHealthService: pending RDS changes and the last snapshot', () => {
  beforeEach(() => {
    rdsMock.reset();
    s3Mock.reset();
    s3Mock.on(HeadBucketCommand).rejects(new Error('not in this test'));
    rdsMock
      .on(DescribeDBInstancesCommand)
      .callsFake(async (input: DescribeDBInstancesCommandInput) => ({
        DBInstances: (input.Filters?.[0]?.Values ?? []).map(id =>
          rdsInstance(id, {
            DBInstanceClass: 'db.t4g.micro',
            PendingModifiedValues: { DBInstanceClass: 'db.t4g.small' },
          }),
        ),
      }));
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'rds:a-db-2026-12-01-03-10',
          SnapshotCreateTime: new Date('2026-12-01T03:10:00Z'),
          SnapshotType: 'automated',
          Status: 'available',
        },
        {
          DBSnapshotIdentifier: 'a-db-pre-upgrade-20261202t101500z',
          SnapshotCreateTime: new Date('2026-12-02T10:15:00Z'),
          SnapshotType: 'manual',
          Status: 'available',
        },
      ],
    });
  });

  it('shows the pending change from the batched describe, and the last snapshot on the report of one entity only', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `m${i}`);
    const service = createService(['a', ...names]);

    const { items } = await service.getReports(
      names.map(n => `component:default/${n}`),
      { credentials },
    );
    expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
    expect(rdsMock.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(0);
    const first = items[0] as { report: MlflowHealthReport };
    expect(database(first.report)).toMatchObject({
      pendingChanges: [
        {
          setting: 'instance class',
          current: 'db.t4g.micro',
          pending: 'db.t4g.small',
        },
      ],
    });
    expect(database(first.report)?.lastSnapshot).toBeUndefined();

    const report = await service.getReport('component:default/a', {
      credentials,
    });
    expect(database(report)).toMatchObject({
      pendingChanges: [{ setting: 'instance class', pending: 'db.t4g.small' }],
      lastSnapshot: {
        id: 'a-db-pre-upgrade-20261202t101500z',
        createdAt: '2026-12-02T10:15:00.000Z',
        type: 'manual',
        status: 'available',
      },
    });
    expect(
      rdsMock.commandCalls(DescribeDBSnapshotsCommand)[0].args[0].input,
    ).toMatchObject({ DBInstanceIdentifier: 'a-db' });

    // Cached like the report: a second read costs no AWS call.
    await service.getReport('component:default/a', { credentials });
    expect(rdsMock.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(1);
    expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(3);
  });

  it('says when an instance has no snapshot, and keeps the report when the read fails', async () => {
    const service = createService(['a', 'b']);
    rdsMock.on(DescribeDBSnapshotsCommand).resolvesOnce({ DBSnapshots: [] });
    const none = await service.getReport('component:default/a', {
      credentials,
    });
    expect(database(none)?.lastSnapshot).toBeNull();
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(new Error('throttled'));
    const failed = await service.getReport('component:default/b', {
      credentials,
    });
    expect(database(failed)?.lastSnapshot).toBeUndefined();
    expect(database(failed)?.instanceId).toBe('b-db');
  });

  it('gives a newer report the snapshot already kept while the read runs behind it, and keeps a failed read', async () => {
    const service = createService(['a', 'b']);
    const read = (name: string, refresh = false) =>
      service.getReport(`component:default/${name}`, { credentials, refresh });
    const first = await read('a');
    const kept = database(first)?.lastSnapshot;
    expect(kept).toMatchObject({ id: 'a-db-pre-upgrade-20261202t101500z' });

    // The read for the newer report answers only when released: the report does not wait for it.
    let release = () => {};
    rdsMock.on(DescribeDBSnapshotsCommand).callsFake(
      () =>
        new Promise(resolve => {
          release = () => resolve({ DBSnapshots: [] });
        }),
    );
    await new Promise(r => setTimeout(r, 2));
    const refreshed = await read('a', true);
    expect(refreshed.checkedAt).not.toBe(first.checkedAt);
    expect(database(refreshed)?.lastSnapshot).toEqual(kept);
    expect(rdsMock.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(2);
    release();
    let latest = refreshed;
    while (database(latest)?.lastSnapshot !== null) {
      await new Promise(r => setTimeout(r, 5));
      latest = await read('a');
    }
    expect(rdsMock.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(2);

    rdsMock.on(DescribeDBSnapshotsCommand).rejects(new Error('AccessDenied'));
    await read('b');
    const again = await read('b');
    expect(database(again)?.lastSnapshot).toBeUndefined();
    expect(
      rdsMock
        .commandCalls(DescribeDBSnapshotsCommand)
        .filter(c => c.args[0].input.DBInstanceIdentifier === 'b-db'),
    ).toHaveLength(1);
  });
});
