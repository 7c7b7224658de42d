import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { JsonValue } from '@backstage/types';
import {
  AwsClientConfigFactory,
  MlflowClusters,
} from '@stateful-mlflow/plugin-mlflow-node';
import { readDatabaseCaBundle } from '../moduleConfig';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import {
  allowPostgresFrom,
  connectToStack,
  connectWithSecret,
  createClientSecurityGroup,
  deleteServersAndInstance,
  dryRunner,
  readDeployment,
  readRolePolicies,
  readSecret,
  runNames,
  runTwice,
} from '../__testUtils__/provisioningRun';
import {
  expectHardenedBucket,
  expectHardenedInstance,
  expectNothingProvisioned,
  expectPostgresOnlyFrom,
  expectSignInRequired,
} from '../__testUtils__/provisioningExpectations';
import { loadStack } from '../__testUtils__/stack';
import { MlflowKubernetesApi } from '../kubernetes/kubernetesApi';
import {
  createDatabaseCreateAction,
  createIamCreateRoleAction,
  createKubernetesDeployAction,
  createRdsCreateAction,
  createS3CreateAction,
} from '../actionFactories';
import { testTenancy } from '../__testUtils__/tenancy';

// Pods are local processes on a small shared machine: MLflow starts slowly under load.
jest.setTimeout(900_000);

const REGION = 'eu-west-1';
const { suffix, name, bucket, databaseName, username, namespace } = runNames();

describe('provisioning actions against the local stack', () => {
  let stack: ReturnType<typeof loadStack>;
  let aws: AwsClientConfigFactory;
  let clusters: MlflowClusters;
  let kube: MlflowKubernetesApi;
  const outputs: Record<string, Record<string, JsonValue>> = {};
  const visible: string[] = [];
  let adminPassword = '';
  let databasePassword = '';

  beforeAll(() => {
    ({ stack, aws, clusters, kube } = connectToStack());
  });

  afterAll(async () => {
    await deleteServersAndInstance({
      aws,
      clusters,
      namespace,
      region: REGION,
      instanceId: outputs.rds?.instanceId as string | undefined,
    });
  });

  it('dry-runs every AWS and database action without creating anything', async () => {
    const config = await aws.forRegion({ region: REGION });
    const dry = dryRunner(visible);
    const dryName = `${name}-dry`;
    expect(
      await dry(createS3CreateAction({ aws, ...testTenancy() }), {
        name: dryName,
        bucket: `${bucket}-dry`,
        region: REGION,
      }),
    ).toMatchObject({ artifactRoot: `s3://${bucket}-dry/artifacts` });
    expect(
      await dry(createRdsCreateAction({ aws, ...testTenancy() }), {
        name: dryName,
        region: REGION,
      }),
    ).toMatchObject({ instanceId: `mlflow-${dryName}`, status: 'dry-run' });
    expect(
      await dry(createIamCreateRoleAction({ aws, ...testTenancy() }), {
        name: dryName,
        region: REGION,
        bucket: `${bucket}-dry`,
        trustType: 'podIdentity',
      }),
    ).toMatchObject({ roleName: `mlflow-${dryName}` });
    expect(
      await dry(
        createDatabaseCreateAction({
          aws,
          kubernetes: () => kube,
          ...testTenancy(),
        }),
        {
          name: dryName,
          region: REGION,
          cluster: 'local',
        },
      ),
    ).toMatchObject({ secretName: `${dryName}-db` });

    await expectNothingProvisioned(config, kube, dryName, bucket);
  });

  it('mlflow:s3:create makes a private, encrypted, versioned, TLS-only bucket and converges', async () => {
    const action = createS3CreateAction({ aws, ...testTenancy() });
    const { first, second } = await runTwice(action, {
      name,
      bucket,
      region: REGION,
    });
    visible.push(first.everythingVisible(), second.everythingVisible());
    outputs.s3 = first.outputs;
    expect(first.outputs.artifactRoot).toBe(`s3://${bucket}/artifacts`);

    await expectHardenedBucket(
      new S3Client(await aws.forRegion({ region: REGION })),
      bucket,
    );
  });

  it('mlflow:s3:create refuses a bucket that exists without our tag', async () => {
    const s3 = new S3Client(await aws.forRegion({ region: REGION }));
    const foreign = `${bucket}-foreign`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: foreign,
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    const action = createS3CreateAction({ aws, ...testTenancy() });
    const { ctx } = createCheckpointingContext(action, {
      input: { name, bucket: foreign, region: REGION },
    });
    await expect(action.handler(ctx)).rejects.toThrow(
      /was not created for MLflow instance/,
    );
  });

  it('mlflow:rds:create makes an encrypted instance with a managed master secret and a 5432-only security group, and converges', async () => {
    const config = await aws.forRegion({ region: REGION });
    const ec2 = new EC2Client(config);
    const clientGroup = await createClientSecurityGroup(ec2, suffix);
    const action = createRdsCreateAction({
      aws,
      ...testTenancy(),
      pollIntervalMs: 200,
    });
    const input = {
      name,
      region: REGION,
      allowedSecurityGroupIds: [clientGroup.GroupId!],
      owner: 'group:default/ml',
    };
    const { first, second } = await runTwice(action, input);
    visible.push(first.everythingVisible(), second.everythingVisible());
    outputs.rds = first.outputs;
    expect(first.outputs).toMatchObject({
      instanceId: `mlflow-${name}`,
      status: 'available',
    });
    expect(first.outputs.masterSecretArn).toMatch(/^arn:aws:secretsmanager:/);

    await expectHardenedInstance(
      new RDSClient(config),
      name,
      first.outputs.port,
    );
    await expectPostgresOnlyFrom(
      ec2,
      first.outputs.securityGroupId as string,
      clientGroup.GroupId,
    );

    // An identical rule added behind our back still counts as success.
    await allowPostgresFrom(
      ec2,
      first.outputs.securityGroupId as string,
      clientGroup.GroupId,
    );
    const third = createCheckpointingContext(action, { input });
    await action.handler(third.ctx);
  });

  it("mlflow:database:create makes a role that owns its database, cannot reach another instance's database, and converges", async () => {
    // The instance's own PostgreSQL at its endpoint, verified against the stack's CA.
    const action = createDatabaseCreateAction({
      aws,
      kubernetes: () => kube,
      ...testTenancy(),
      caBundle: readDatabaseCaBundle(stack.config),
      pollIntervalMs: 200,
    });
    const input = {
      name,
      region: REGION,
      instanceId: outputs.rds.instanceId as string,
      masterSecretArn: outputs.rds.masterSecretArn as string,
      databaseName,
      username,
      cluster: 'local',
    };
    const { first, second } = await runTwice(action, input);
    visible.push(first.everythingVisible(), second.everythingVisible());
    outputs.database = first.outputs;

    const value = await readSecret(
      kube,
      first.outputs.secretName as string,
      namespace,
    );
    expect(value('PGUSER')).toBe(username);
    expect(`${value('PGHOST')}:${value('PGPORT')}`).toBe(
      `${outputs.rds.endpoint}:${outputs.rds.port}`,
    );
    // No password in the URI: libpq reads PGPASSWORD, which the pods get from this Secret.
    expect(value('MLFLOW_BACKEND_STORE_URI')).toBe(
      `postgresql://${username}@${value('PGHOST')}:${value(
        'PGPORT',
      )}/${databaseName}?sslmode=require`,
    );
    databasePassword = value('PGPASSWORD');
    expect(databasePassword).toMatch(/^.{32,}$/);

    const connectAs = (database: string) =>
      connectWithSecret(value, username, database);
    const own = await connectAs(databaseName);
    try {
      const result = await own.query(
        'SELECT current_user AS me, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()',
      );
      expect(result.rows[0]).toEqual({ me: username, owner: username });
      // MLflow creates its tables as this role; dropped again so the migration sees an empty database.
      await own.query('CREATE TABLE probe (id int)');
      await own.query('DROP TABLE probe');
    } finally {
      await own.end();
    }

    // Another database on the same server stays closed to this role. (A second MLflow instance
    // cannot share the RDS instance: the step refuses an RDS instance not created for it.)
    const otherDatabase = `${databaseName}_b`;
    const other = createCheckpointingContext(action, {
      input: {
        ...input,
        databaseName: otherDatabase,
        username: `${username}_b`,
        authDatabaseName: `${otherDatabase}_auth`,
        authSecretName: `${name}-b-mlflow-auth`,
        healthSecretName: `${name}-b-mlflow-health`,
        namespace,
        secretName: `${name}-b-db`,
        storeInSecretsManager: true,
        secretsManagerName: `mlflow/${name}/database-b`,
      },
    });
    await action.handler(other.ctx);
    visible.push(other.everythingVisible());
    expect(other.outputs.secretArn).toMatch(
      new RegExp(
        `^arn:aws:secretsmanager:${REGION}:\\d{12}:secret:mlflow/${name}/database-b`,
      ),
    );
    await expect(connectAs(otherDatabase)).rejects.toThrow(
      /permission denied|CONNECT privilege/,
    );
    // Databases the master does not own (here the stack's postgres, owned by its superuser) keep
    // PUBLIC's CONNECT; the step names them rather than staying silent. Instance databases are
    // never among them.
    const warning = other.logs.find(l => l.level === 'warn')?.message ?? '';
    const reachable =
      /can still connect to (.*?): /.exec(warning)?.[1].split(', ') ?? [];
    expect(reachable).toContain('postgres');
    expect(reachable).not.toContain(databaseName);
    expect(reachable).not.toContain(otherDatabase);
  });

  it('mlflow:iam:createRole trusts the ServiceAccount and scopes the policy to the prefix, and converges', async () => {
    const action = createIamCreateRoleAction({ aws, ...testTenancy() });
    const { first } = await runTwice(action, {
      name,
      region: REGION,
      bucket,
      oidcProviderArn: `arn:aws:iam::123456789012:oidc-provider/oidc.eks.${REGION}.amazonaws.com/id/LOCAL`,
    });
    outputs.iam = first.outputs;
    const { trust, artifacts } = await readRolePolicies(
      new IAMClient(await aws.forRegion({ region: REGION })),
      first.outputs.roleName as string,
    );
    expect(trust).toContain(`system:serviceaccount:${namespace}:mlflow`);
    expect(artifacts).toContain(`arn:aws:s3:::${bucket}/artifacts/*`);
  });

  it('mlflow:kubernetes:deploy migrates, rolls out ready pods behind a working tracking URL, converges and recovers without repeating work', async () => {
    const action = createKubernetesDeployAction({
      ...testTenancy(),
      kubernetes: () => kube,
      pollIntervalMs: 1000,
    });
    const input = {
      name,
      cluster: 'local',
      image: 'ghcr.io/acme/mlflow-server:3.17.2',
      hostname: `${name}.mlflow.localhost`,
      region: REGION,
      roleArn: outputs.iam.roleArn as string,
      artifactsDestination: outputs.s3.artifactRoot as string,
      databaseSecretName: outputs.database.secretName as string,
      rdsInstanceId: outputs.rds.instanceId as string,
      databaseName,
      workers: 1,
      timeoutSeconds: 600,
    };

    const dryRun = createCheckpointingContext(action, {
      input,
      isDryRun: true,
    });
    await action.handler(dryRun.ctx);
    expect(dryRun.logs.map(l => l.message).join('\n')).toContain(
      'Dry-run: the cluster accepts Deployment',
    );
    expect(await readDeployment(kube, name, namespace)).toBeUndefined();

    const first = createCheckpointingContext(action, { input });
    await action.handler(first.ctx);
    visible.push(first.everythingVisible());
    expect(first.outputs.trackingUrl).toBe(`http://${name}.mlflow.localhost`);
    expect(first.outputs).toMatchObject({
      authMode: 'basic-auth',
      authSecretName: outputs.database.authSecretName,
    });

    // Sign-in is on: the admin's login from its Secret works, no login gets 401.
    const field = await readSecret(
      kube,
      outputs.database.authSecretName as string,
      namespace,
    );
    adminPassword = field('admin-password');
    await expectSignInRequired(
      first.outputs.trackingUrl as string,
      { username: field('admin-username'), password: adminPassword },
      `probe-${suffix}`,
    );

    const before = await readDeployment(kube, name, namespace);
    expect(before!.status!.readyReplicas).toBe(2);
    const second = createCheckpointingContext(action, { input });
    await action.handler(second.ctx);
    const after = await readDeployment(kube, name, namespace);
    expect(after!.metadata!.generation).toBe(before!.metadata!.generation);

    // A recovered task replays the finished checkpoints and applies nothing again.
    const recovered = createCheckpointingContext(action, {
      input,
      store: first.store,
    });
    await action.handler(recovered.ctx);
    expect(recovered.executed).toEqual([]);
    expect(recovered.outputs).toEqual(first.outputs);
  });

  it('showed no password in any log line, output or checkpoint key', () => {
    expect(visible.length).toBeGreaterThan(0);
    expect(adminPassword).toMatch(/^.{32,}$/);
    const all = visible.join('\n');
    expect(all).not.toContain('P@55w0rd!');
    expect(all).not.toContain(adminPassword);
    expect(databasePassword).not.toBe('');
    expect(all).not.toContain(databasePassword);
    expect(all).not.toMatch(/postgresql:\/\/[^@\s]+:[^@\s]+@/);
  });
});
