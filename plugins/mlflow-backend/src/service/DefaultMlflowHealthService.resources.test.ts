import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
} from '@aws-sdk/client-s3';
import type { V1Deployment } from '@kubernetes/client-node';
import { mlflowDeployment, rdsInstance } from '../testUtils/healthFixtures';
import {
  awsError,
  check,
  createService,
  credentials,
  readyDeployment,
  s3Mock,
  useHealthServiceFixture,
} from './__testUtils__/healthServiceFixtures';

describe('DefaultMlflowHealthService', () => {
  const fixture = useHealthServiceFixture();

  describe('database', () => {
    async function databaseCheck(
      instance: ReturnType<typeof rdsInstance> | undefined,
      lifecycle = 'production',
    ) {
      fixture.rdsInstances = instance ? { 'prod-db': instance } : {};
      const entity = fixture.prodEntity();
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
        entities: [fixture.prodEntity()],
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
        entities: [fixture.prodEntity(annotations)],
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
});
