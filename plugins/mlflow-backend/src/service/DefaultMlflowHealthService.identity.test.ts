import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
} from '@aws-sdk/client-s3';
import {
  identityTags,
  mlflowDeployment,
  mlflowEntity,
  rdsInstance,
} from '../testUtils/healthFixtures';
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

  describe('identity and trust', () => {
    it('refuses an RDS instance tagged for another instance or owner, without describing it', async () => {
      fixture.rdsInstances = {
        'prod-db': rdsInstance('prod-db', { TagList: identityTags('other') }),
      };
      const { service } = createService({
        entities: [fixture.prodEntity()],
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

      fixture.rdsInstances = {
        'prod-db': rdsInstance('prod-db', {
          TagList: identityTags('prod', 'group:default/intruders'),
        }),
      };
      const other = createService({ entities: [fixture.prodEntity()] });
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

      fixture.rdsInstances = {
        'prod-db': rdsInstance('prod-db', { TagList: [] }),
      };
      const untagged = createService({ entities: [fixture.prodEntity()] });
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
      fixture.rdsInstances = {
        'prod-db': rdsInstance('prod-db', {
          TagList: [{ Key: 'stateful-mlflow/instance', Value: 'prod' }],
        }),
      };
      const { service } = createService({ entities: [fixture.prodEntity()] });
      const report = await service.getReport('component:default/prod', {
        credentials,
      });
      expect(check(report, 'database').status).toBe('ok');
    });

    it('refuses a bucket of another owner and reads none of its settings', async () => {
      s3Mock
        .on(GetBucketTaggingCommand)
        .resolves({ TagSet: identityTags('prod', 'group:default/intruders') });
      const { service } = createService({ entities: [fixture.prodEntity()] });
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
        entities: [fixture.prodEntity()],
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
        entities: [fixture.prodEntity()],
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
        fixture.mlflow.requests.length = 0;
        rdsMock.resetHistory();
        s3Mock.resetHistory();
        const { service } = createService({
          entities: [fixture.prodEntity(annotations)],
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
        expect(fixture.mlflow.requests).toEqual([]);
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
        entities: [fixture.prodEntity()],
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
          fixture.prodEntity({ 'mlflow.org/aws-account-id': '210987654321' }),
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
});
