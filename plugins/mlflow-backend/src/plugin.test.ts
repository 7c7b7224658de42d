import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { mockClient } from 'aws-sdk-client-mock';
import knexFactory, { Knex } from 'knex';
import request from 'supertest';
import { mlflowPlugin } from './plugin';
import {
  identityTags,
  mlflowEntity,
  rdsInstance,
  startFakeMlflowServer,
} from './testUtils/healthFixtures';
import { healthPermissions } from './testUtils/healthPermissions';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);

describe('mlflowPlugin', () => {
  let mlflow: Awaited<ReturnType<typeof startFakeMlflowServer>>;

  beforeAll(async () => {
    mlflow = await startFakeMlflowServer();
  });

  afterAll(async () => {
    await mlflow.stop();
  });

  beforeEach(() => {
    rdsMock.reset();
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [rdsInstance('prod-db')] });
    s3Mock.reset();
    s3Mock.on(HeadBucketCommand).resolves({});
    s3Mock
      .on(GetBucketTaggingCommand)
      .resolves({ TagSet: identityTags('prod') });
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
          { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    });
    s3Mock.on(GetBucketPolicyCommand).resolves({
      Policy: JSON.stringify({
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      }),
    });
  });

  async function start(
    permission:
      | AuthorizeResult.ALLOW
      | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
    options: {
      knex?: Knex;
      entityAnnotations?: Record<string, undefined>;
    } = {},
  ) {
    const { server } = await startTestBackend({
      features: [
        mlflowPlugin,
        ...(options.knex
          ? [mockServices.database.factory({ knex: options.knex })]
          : []),
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            aws: {
              mainAccount: {
                accessKeyId: 'test-access-key',
                secretAccessKey: 'test-secret-key',
              },
            },
            mlflow: { health: { allowedTrackingHosts: ['127.0.0.1'] } },
          },
        }),
        healthPermissions.factory(permission),
        catalogServiceMock.factory({
          entities: [
            mlflowEntity('prod', {
              'mlflow.org/tracking-url': mlflow.url,
              'mlflow.org/kubernetes-cluster': undefined,
              ...options.entityAnnotations,
            }),
          ],
        }),
      ],
    });
    return server;
  }

  it('answers GET /v1/health/:namespace/:kind/:name with the report', async () => {
    const server = await start();
    const response = await request(server).get(
      '/api/mlflow/v1/health/default/component/prod',
    );
    expect(response.status).toBe(200);
    // The fake server lets anyone in, so the authentication point fails (signing in as the
    // health user is covered by the check's own tests).
    expect(response.body).toMatchObject({
      entityRef: 'component:default/prod',
      overall: 'degraded',
      checks: [
        {
          id: 'trackingServer',
          status: 'warning',
          details: {
            backendStoreReachable: true,
            compliance: [
              { id: 'authentication', ok: false },
              { id: 'https', ok: true },
            ],
          },
        },
        { id: 'database', status: 'ok' },
        { id: 'artifactStore', status: 'ok' },
        {
          id: 'kubernetes',
          status: 'unknown',
          summary:
            'Not checked: the entity has no mlflow.org/kubernetes-cluster annotation.',
        },
      ],
    });
    const body = JSON.stringify(response.body);
    expect(body).not.toContain('test-secret-key');
    expect(body).not.toContain('secretsmanager');
  });

  it('refuses a request without credentials with 401', async () => {
    const server = await start();
    const before = mlflow.requests.length;
    const response = await request(server)
      .get('/api/mlflow/v1/health/default/component/prod')
      .set('Authorization', mockCredentials.none.header());
    expect(response.status).toBe(401);
    expect(mlflow.requests).toHaveLength(before);
  });

  it('answers 404 for an entity the caller cannot see', async () => {
    const server = await start();
    const response = await request(server).get(
      '/api/mlflow/v1/health/default/component/ghost',
    );
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({
      name: 'NotFoundError',
      message: 'No entity component:default/ghost that you can see.',
    });
  });

  it('answers 403 without the mlflow.instance.health.read permission', async () => {
    const server = await start(AuthorizeResult.DENY);
    const response = await request(server).get(
      '/api/mlflow/v1/health/default/component/prod',
    );
    expect(response.status).toBe(403);
    expect(response.body.error.name).toBe('NotAllowedError');
  });

  it('registers the permission with the permission framework', async () => {
    const server = await start();
    const response = await request(server).get(
      '/api/mlflow/.well-known/backstage/permissions/metadata',
    );
    expect(response.status).toBe(200);
    expect(response.body.permissions).toContainEqual({
      type: 'resource',
      name: 'mlflow.instance.health.read',
      attributes: { action: 'read' },
      resourceType: 'catalog-entity',
    });
  });

  it('refuses a refresh value other than true or false with 400', async () => {
    const server = await start();
    const response = await request(server).get(
      '/api/mlflow/v1/health/default/component/prod?refresh=yes',
    );
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe(
      'Invalid refresh: received "yes", but it must be true or false.',
    );
  });

  it('answers the fleet form with one item per ref, in order', async () => {
    const server = await start();
    const response = await request(server)
      .post('/api/mlflow/v1/health')
      .send({ entityRefs: ['component:default/ghost', 'component:prod'] });
    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([
      {
        entityRef: 'component:default/ghost',
        error: {
          name: 'NotFoundError',
          message: 'No entity component:default/ghost that you can see.',
        },
      },
      {
        entityRef: 'component:default/prod',
        report: expect.objectContaining({ overall: 'degraded' }),
      },
    ]);
  });

  it('refuses a fleet body without a list of refs with 400', async () => {
    const server = await start();
    const response = await request(server)
      .post('/api/mlflow/v1/health')
      .send({ entityRefs: 'component:default/prod' });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(
      /^Invalid entityRefs: received "component:default\/prod", but it must be a list/,
    );
  });

  it('registers the read-only get-instance-health action, which runs as the caller', async () => {
    const server = await start();
    const list = await request(server).get(
      '/api/mlflow/.backstage/actions/v1/actions',
    );
    expect(list.body.actions).toContainEqual(
      expect.objectContaining({
        id: 'mlflow:get-instance-health',
        attributes: { readOnly: true, idempotent: true, destructive: false },
      }),
    );

    const invoked = await request(server)
      .post(
        '/api/mlflow/.backstage/actions/v1/actions/mlflow:get-instance-health/invoke',
      )
      .send({ entityRef: 'component:default/prod' });
    expect(invoked.status).toBe(200);
    expect(invoked.body.output).toMatchObject({
      entityRef: 'component:default/prod',
      overall: 'degraded',
    });

    const hidden = await request(server)
      .post(
        '/api/mlflow/.backstage/actions/v1/actions/mlflow:get-instance-health/invoke',
      )
      .send({ entityRef: 'component:default/ghost' });
    expect(hidden.status).toBe(404);
  });

  it('applies the permission to the action too', async () => {
    const server = await start(AuthorizeResult.DENY);
    const invoked = await request(server)
      .post(
        '/api/mlflow/.backstage/actions/v1/actions/mlflow:get-instance-health/invoke',
      )
      .send({ entityRef: 'component:default/prod' });
    expect(invoked.status).toBe(403);
  });

  it('holds the refresh limit across two replicas sharing one database', async () => {
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    try {
      const first = await start(AuthorizeResult.ALLOW, { knex });
      const second = await start(AuthorizeResult.ALLOW, { knex });
      const path = '/api/mlflow/v1/health/default/component/prod';
      const healthCalls = () =>
        mlflow.requests.filter(r => r.path === '/health').length;

      const warm = (await request(second).get(path)).body.checkedAt;
      const before = healthCalls();
      const refreshed = await request(first).get(`${path}?refresh=true`);
      expect(refreshed.status).toBe(200);
      expect(healthCalls()).toBe(before + 1);

      // The second replica's refresh within the interval is refused: it serves its own report.
      const limited = await request(second).get(`${path}?refresh=true`);
      expect(limited.status).toBe(200);
      expect(limited.body.checkedAt).toBe(warm);
      expect(healthCalls()).toBe(before + 1);
    } finally {
      await knex.destroy();
    }
  });

  it('checks neither the tracking server nor AWS for an entity the provider did not mark trusted', async () => {
    const server = await start(AuthorizeResult.ALLOW, {
      entityAnnotations: { 'mlflow.org/trusted': undefined },
    });
    const before = mlflow.requests.length;
    rdsMock.resetHistory();
    s3Mock.resetHistory();
    const response = await request(server).get(
      '/api/mlflow/v1/health/default/component/prod',
    );
    expect(response.status).toBe(200);
    expect(
      response.body.checks.map((c: { id: string; status: string }) => [
        c.id,
        c.status,
      ]),
    ).toEqual([
      ['trackingServer', 'unknown'],
      ['database', 'unknown'],
      ['artifactStore', 'unknown'],
      ['kubernetes', 'unknown'],
    ]);
    expect(mlflow.requests).toHaveLength(before);
    expect(rdsMock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
  });
});
