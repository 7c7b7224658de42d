import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  RDSClient,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import {
  BucketLocationConstraint,
  CreateBucketCommand,
  DeleteBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CacheManager } from '@backstage/backend-defaults/cache';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import {
  readStackAppConfig,
  readStackEnv,
  StackEnv,
} from '@internal/stack-env';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
} from '@kubernetes/client-node';
import {
  MlflowCheckId,
  MlflowHealthCheck,
} from '@stateful-mlflow/plugin-mlflow-common';
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Client } from 'pg';
import { identityTags } from '../testUtils/healthFixtures';
import { DefaultMlflowHealthService } from './DefaultMlflowHealthService';

/*
 * Against the local real stack (stack/README.md): a real MLflow server, RDS and S3 on the AWS
 * endpoint (moto), and Deployments on the stack's kube-apiserver, all checked through the real
 * service with the stack's Backstage config overlay.
 */

const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296)
  .toString(36)
  .padStart(2, '0')}`;
const credentials = mockCredentials.user();

/** An entity as the MLflow entity provider emits it (trusted) for the instance `name`. */
function entity(name: string, annotations: Record<string, string>): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/managed-by-origin-location': `mlflow-cluster:local/${name}/${name}`,
        'mlflow.org/trusted': 'true',
        ...annotations,
      },
    },
    spec: { type: 'service', lifecycle: 'experimental', owner: 'team-ml' },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      last = error;
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

describe('DefaultMlflowHealthService against the local stack', () => {
  let env: StackEnv;
  let overlay: JsonObject;

  beforeAll(() => {
    env = readStackEnv();
    overlay = readStackAppConfig(env).data;
  });

  /** The real service (real AWS, Kubernetes and HTTP clients), nothing cached between calls. */
  function serviceFor(entities: Entity[]) {
    const config = ConfigReader.fromConfigs([
      { context: 'stack', data: overlay },
      {
        context: 'test',
        data: {
          backend: { baseUrl: 'http://localhost:7007' },
          mlflow: {
            health: {
              allowedTrackingHosts: ['127.0.0.1', '*.localhost'],
              cacheTtlSeconds: 0,
              storeSettingsTtlSeconds: 0,
              refreshMinIntervalSeconds: 0,
              checkTimeoutMs: 10_000,
            },
          },
        },
      },
    ]);
    return DefaultMlflowHealthService.fromConfig(config, {
      catalog: catalogServiceMock({ entities }),
      auth: mockServices.auth({ pluginId: 'mlflow' }),
      permissions: mockServices.permissions({ result: AuthorizeResult.ALLOW }),
      cache: CacheManager.fromConfig(mockServices.rootConfig()).forPlugin(
        'mlflow',
      ),
      logger: mockServices.logger.mock(),
    });
  }

  async function check<K extends MlflowCheckId>(
    service: DefaultMlflowHealthService,
    name: string,
    id: K,
  ): Promise<Extract<MlflowHealthCheck, { id: K }>> {
    const report = await service.getReport(`component:default/${name}`, {
      credentials,
    });
    return report.checks.find(c => c.id === id) as Extract<
      MlflowHealthCheck,
      { id: K }
    >;
  }

  /** Checks until `accept` holds; the timeout error names the last status seen. */
  async function checkUntil<K extends MlflowCheckId>(
    service: DefaultMlflowHealthService,
    name: string,
    id: K,
    what: string,
    accept: (result: Extract<MlflowHealthCheck, { id: K }>) => boolean,
  ): Promise<Extract<MlflowHealthCheck, { id: K }>> {
    let last: Extract<MlflowHealthCheck, { id: K }> | undefined;
    return until(what, 60_000, async () => {
      last = await check(service, name, id);
      return accept(last) ? last : undefined;
    }).catch(error => {
      throw new Error(
        `${error.message}; last seen: ${last?.status} "${last?.summary}"`,
      );
    });
  }

  it('sees a real MLflow server up, then stopped', async () => {
    const database = `it_health_${run}`;
    const bucket = `it-health-${run}-tracking`;
    const s3 = new S3Client({ region: env.awsRegion, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: {
          LocationConstraint: env.awsRegion as BucketLocationConstraint,
        },
      }),
    );
    const admin = new Client({ database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const port = await freePort();
    let server: ChildProcess | undefined;
    let output = '';
    try {
      server = spawn(
        env.mlflowBin,
        [
          'server',
          '--backend-store-uri',
          `postgresql://${encodeURIComponent(env.pgUser)}:${encodeURIComponent(
            env.pgPassword,
          )}@${env.pgHost}:${env.pgPort}/${database}`,
          '--artifacts-destination',
          `s3://${bucket}/mlflow`,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--workers',
          '1',
        ],
        // Its own process group: `mlflow server` runs the web server as a child process.
        { env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      server.stdout!.on('data', chunk => (output += chunk));
      server.stderr!.on('data', chunk => (output += chunk));
      const url = `http://127.0.0.1:${port}`;
      // MLflow opens its backend store on the first call that needs it; wait until it has.
      await until(`MLflow on ${url}`, 120_000, async () => {
        const search = await fetch(`${url}/api/2.0/mlflow/experiments/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ max_results: 1 }),
        });
        return search.ok ? true : undefined;
      }).catch(error => {
        throw new Error(`${error.message}\n${output.slice(-2000)}`);
      });

      const service = serviceFor([
        entity('tracking', { 'mlflow.org/tracking-url': url }),
      ]);
      const up = await check(service, 'tracking', 'trackingServer');
      expect({ summary: up.summary }).toEqual({
        summary: expect.stringMatching(/answers and reads its backend store/),
      });
      // This server runs without MLflow's sign-in app: it answers, but anonymous access fails the
      // authentication point, so the check is a warning rather than ok.
      expect(up).toMatchObject({
        status: 'warning',
        details: {
          url,
          live: true,
          backendStoreReachable: true,
          version: expect.stringMatching(/^\d+\.\d+/),
          compliance: expect.arrayContaining([
            expect.objectContaining({ id: 'authentication', ok: false }),
            expect.objectContaining({ id: 'https', ok: true }),
          ]),
        },
      });

      const exited = new Promise(resolve => server!.once('exit', resolve));
      process.kill(-server.pid!, 'SIGTERM');
      await exited;
      server = undefined;
      await until('the MLflow server to stop', 30_000, () =>
        fetch(`${url}/health`).then(
          () => undefined,
          () => true,
        ),
      );
      expect(await check(service, 'tracking', 'trackingServer')).toMatchObject({
        status: 'error',
        summary: expect.stringMatching(/does not answer \/health/),
      });
    } finally {
      if (server?.pid) {
        process.kill(-server.pid, 'SIGKILL');
      }
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
      await s3
        .send(new DeleteBucketCommand({ Bucket: bucket }))
        .catch(() => {});
    }
  }, 180_000);

  it('sees an RDS instance available, then stopped', async () => {
    const instanceId = `it-health-${run}`;
    const rds = new RDSClient({ region: env.awsRegion });
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        Engine: 'postgres',
        EngineVersion: '16.4',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'mlflowadmin',
        ManageMasterUserPassword: true,
        StorageEncrypted: true,
        PubliclyAccessible: false,
        BackupRetentionPeriod: 7,
        Tags: identityTags('database'),
      }),
    );
    try {
      const service = serviceFor([
        entity('database', {
          'mlflow.org/aws-region': env.awsRegion,
          'mlflow.org/rds-instance-id': instanceId,
        }),
      ]);
      const available = await checkUntil(
        service,
        'database',
        'database',
        'the instance to be available',
        result =>
          result.status === 'ok' && result.details?.status === 'available',
      );
      expect(available).toMatchObject({
        status: 'ok',
        details: {
          instanceId,
          engine: 'postgres',
          storageEncrypted: true,
          publiclyAccessible: false,
        },
      });

      await rds.send(
        new StopDBInstanceCommand({ DBInstanceIdentifier: instanceId }),
      );
      const stopped = await checkUntil(
        service,
        'database',
        'database',
        'the instance to stop',
        result =>
          result.status === 'error' &&
          result.summary ===
            `RDS instance ${instanceId} is stopped, not available.`,
      );
      expect(stopped).toMatchObject({
        status: 'error',
        summary: `RDS instance ${instanceId} is stopped, not available.`,
      });
    } finally {
      await rds
        .send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: instanceId,
            SkipFinalSnapshot: true,
          }),
        )
        .catch(() => {});
    }
  }, 90_000);

  it("refuses an RDS instance and a bucket that are not the instance's, describing neither", async () => {
    const instanceId = `it-health-${run}-foreign`;
    const bucket = `it-health-${run}-foreign`;
    const rds = new RDSClient({ region: env.awsRegion });
    const s3 = new S3Client({ region: env.awsRegion, forcePathStyle: true });
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        Engine: 'postgres',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'mlflowadmin',
        ManageMasterUserPassword: true,
        Tags: identityTags('foreign', 'group:default/intruders'),
      }),
    );
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: {
          LocationConstraint: env.awsRegion as BucketLocationConstraint,
        },
      }),
    );
    try {
      const service = serviceFor([
        entity('foreign', {
          'mlflow.org/aws-region': env.awsRegion,
          'mlflow.org/rds-instance-id': instanceId,
          'mlflow.org/s3-artifact-root': `s3://${bucket}/mlflow`,
        }),
      ]);
      expect(await check(service, 'foreign', 'database')).toEqual({
        id: 'database',
        status: 'error',
        summary: `RDS instance ${instanceId} is not this instance's (its owner tag names another owner); it is not described.`,
        details: { instanceId, region: env.awsRegion, compliance: [] },
        latencyMs: expect.any(Number),
      });
      expect(await check(service, 'foreign', 'artifactStore')).toEqual({
        id: 'artifactStore',
        status: 'error',
        summary: `Bucket ${bucket} is not this instance's (it has no stateful-mlflow/instance tag); it is not described.`,
        details: {
          bucket,
          prefix: 'mlflow',
          region: env.awsRegion,
          compliance: [],
        },
        latencyMs: expect.any(Number),
      });
    } finally {
      await rds
        .send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: instanceId,
            SkipFinalSnapshot: true,
          }),
        )
        .catch(() => {});
      await s3
        .send(new DeleteBucketCommand({ Bucket: bucket }))
        .catch(() => {});
    }
  }, 90_000);

  it('sees bucket versioning enabled, then suspended', async () => {
    const bucket = `it-health-${run}-artifacts`;
    const s3 = new S3Client({ region: env.awsRegion, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: {
          LocationConstraint: env.awsRegion as BucketLocationConstraint,
        },
      }),
    );
    try {
      await s3.send(
        new PutBucketTaggingCommand({
          Bucket: bucket,
          Tagging: { TagSet: identityTags('artifacts') },
        }),
      );
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
        }),
      );
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
              },
            ],
          },
        }),
      );
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket: bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: '*',
                Action: 's3:*',
                Resource: [
                  `arn:aws:s3:::${bucket}`,
                  `arn:aws:s3:::${bucket}/*`,
                ],
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          }),
        }),
      );
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: 'Enabled' },
        }),
      );
      const service = serviceFor([
        entity('artifacts', {
          'mlflow.org/aws-region': env.awsRegion,
          'mlflow.org/s3-artifact-root': `s3://${bucket}/mlflow`,
        }),
      ]);
      expect(await check(service, 'artifacts', 'artifactStore')).toMatchObject({
        status: 'ok',
        details: {
          bucket,
          versioning: 'Enabled',
          encryption: 'AES256',
          publicAccessBlocked: true,
          tlsOnlyPolicy: true,
        },
      });

      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: 'Suspended' },
        }),
      );
      expect(await check(service, 'artifacts', 'artifactStore')).toMatchObject({
        status: 'warning',
        details: { versioning: 'Suspended' },
      });
    } finally {
      await s3
        .send(new DeleteBucketCommand({ Bucket: bucket }))
        .catch(() => {});
    }
  }, 60_000);

  it('sees a Deployment ready, then a stuck rollout, then scaled short', async () => {
    const namespace = `it-health-${run}`;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(env.kubeconfig);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const labels = {
      'app.kubernetes.io/name': 'mlflow',
      'app.kubernetes.io/instance': 'server',
    };
    const deployment: V1Deployment = {
      metadata: { name: 'mlflow', namespace, labels },
      spec: {
        replicas: 1,
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'mlflow',
                image: 'ghcr.io/mlflow/mlflow:v3.1.0',
                command: ['mlflow'],
                args: [
                  'server',
                  '--backend-store-uri',
                  'sqlite:///mlflow.db',
                  '--host',
                  '0.0.0.0',
                  '--port',
                  '5000',
                ],
                ports: [{ containerPort: 5000 }],
              },
            ],
          },
        },
      },
    };
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    try {
      await apps.createNamespacedDeployment({ namespace, body: deployment });
      const service = serviceFor([
        entity('server', {
          'mlflow.org/kubernetes-cluster': 'local',
          'backstage.io/kubernetes-id': 'server',
          'backstage.io/kubernetes-namespace': namespace,
        }),
      ]);
      const ready = await checkUntil(
        service,
        'server',
        'kubernetes',
        'the Deployment to be ready',
        result =>
          result.status === 'ok' &&
          result.details?.replicas.desired === 1 &&
          result.details.replicas.ready === 1,
      );
      expect(ready.details).toMatchObject({
        cluster: 'local',
        namespace,
        deployment: 'mlflow',
        replicas: { desired: 1, ready: 1 },
        image: 'ghcr.io/mlflow/mlflow:v3.1.0',
      });

      // A rollout whose new pod can never pass its readiness probe: the old replica keeps serving.
      const rollout = await apps.readNamespacedDeployment({
        name: 'mlflow',
        namespace,
      });
      rollout.spec!.template.spec!.containers[0].readinessProbe = {
        httpGet: { path: '/no-such-path', port: 5000 },
        periodSeconds: 1,
      };
      await apps.replaceNamespacedDeployment({
        name: 'mlflow',
        namespace,
        body: rollout,
      });
      // The controller counts the new replica as updated a moment after it creates it ("0 of 1
      // replicas updated; 1 unavailable" in between): the stuck state is the one after that.
      const stuckSummary = `Deployment ${namespace}/mlflow: 1 unavailable.`;
      const stuck = await checkUntil(
        service,
        'server',
        'kubernetes',
        'the rollout to get stuck with the new replica counted',
        result =>
          result.status === 'warning' &&
          result.summary === stuckSummary &&
          result.details?.replicas.ready === 1,
      );
      expect(stuck).toMatchObject({
        status: 'warning',
        summary: stuckSummary,
        details: { replicas: { desired: 1, ready: 1 } },
      });

      // Scaled to three while the rollout is stuck: the new pods of the new template never get ready.
      const scaled = await apps.readNamespacedDeployment({
        name: 'mlflow',
        namespace,
      });
      scaled.spec!.replicas = 3;
      await apps.replaceNamespacedDeployment({
        name: 'mlflow',
        namespace,
        body: scaled,
      });
      const short = await checkUntil(
        service,
        'server',
        'kubernetes',
        'the Deployment to fall short',
        result =>
          result.status === 'warning' &&
          result.details?.replicas.desired === 3 &&
          result.details.replicas.ready < 3 &&
          / of 3 replicas ready/.test(result.summary),
      );
      expect(short).toMatchObject({
        status: 'warning',
        summary: expect.stringMatching(/ of 3 replicas ready/),
      });
      expect(short.details!.replicas.ready).toBeLessThan(3);
    } finally {
      await core.deleteNamespace({ name: namespace }).catch(() => {});
    }
  }, 150_000);
});
