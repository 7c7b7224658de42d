import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { getEntity, waitForEntity } from './lib/catalogEntities';
import { eventually } from './lib/eventually';
import {
  awsInventory,
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
import {
  ScaffolderClient,
  TASK_COMPLETED,
  TaskResult,
  taskOutcome,
} from './lib/scaffolderClient';
import { StartedBackend, startStackBackend } from './lib/startBackend';
import { devInstanceValues } from './lib/templateValues';
import { readStackEnv } from '@internal/stack-env';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';

jest.setTimeout(1_200_000);

const TEMPLATE_REF = 'template:default/mlflow-production';

/** The values a user would submit on the Create form for a small dev instance on the stack. */
function runValues(name: string): Record<string, unknown> {
  return devInstanceValues(name, { description: 'End-to-end test instance' });
}

function linkUrl(result: TaskResult, title: string): string | undefined {
  const links = result.output.links as
    | Array<{ title?: string; url?: string }>
    | undefined;
  return links?.find(l => l.title === title)?.url;
}

describe('a full run of the mlflow-production template on the local stack', () => {
  const name = `e2e-${Date.now().toString(36)}`;
  const names = defaultResourceNames(name);
  const hostname = `${name}.mlflow.localhost`;
  let backend: StartedBackend;
  let token: string;
  let scaffolder: ScaffolderClient;
  let first: TaskResult;
  let kc: KubeConfig;

  beforeAll(async () => {
    const env = readStackEnv();
    kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    ({ backend, token, scaffolder } = await startStackBackend({
      templates: ['mlflow-production'],
      // A short refresh keeps the test quick; the default (30 s) is what users get.
      catalogRefreshSeconds: 5,
    }));
    first = await scaffolder.runTemplate(TEMPLATE_REF, runValues(name), {
      timeoutMs: 900_000,
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await deleteInstanceResources(names);
  });

  it('completes the task with the links to the MLflow UI and the entity', () => {
    // On failure the diff shows the task's last log lines.
    expect(taskOutcome(first)).toEqual(TASK_COMPLETED);
    expect(linkUrl(first, 'MLflow UI')).toBe(`http://${hostname}`);
    expect(first.output.links).toContainEqual(
      expect.objectContaining({ entityRef: `component:default/${name}` }),
    );
    // The sign-in text names the admin's Secret and how to read it, never a value.
    const signIn = (
      first.output.text as Array<{ title: string; content: string }>
    ).find(t => t.title === 'Sign in');
    expect(signIn?.content).toContain(
      `kubectl -n ${names.namespace} get secret ${name}-mlflow-auth`,
    );
    expect(signIn?.content).toContain('MLFLOW_TRACKING_PASSWORD');
  });

  it('creates the database, bucket and role with the secure settings', async () => {
    const { awsRegion: region } = readStackEnv();
    const [db] =
      (
        await new RDSClient({ region }).send(
          new DescribeDBInstancesCommand({
            DBInstanceIdentifier: names.rdsInstanceId,
          }),
        )
      ).DBInstances ?? [];
    expect(db).toMatchObject({
      Engine: 'postgres',
      StorageEncrypted: true,
      PubliclyAccessible: false,
      StorageType: 'gp3',
      BackupRetentionPeriod: 7,
      MultiAZ: false,
    });
    expect(db.MasterUserSecret?.SecretArn).toMatch(/^arn:aws:secretsmanager:/);

    const s3 = new S3Client({ region, forcePathStyle: true });
    const bucket = { Bucket: names.bucket };
    expect(
      (await s3.send(new GetPublicAccessBlockCommand(bucket)))
        .PublicAccessBlockConfiguration,
    ).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect((await s3.send(new GetBucketVersioningCommand(bucket))).Status).toBe(
      'Enabled',
    );
    expect(
      (await s3.send(new GetBucketEncryptionCommand(bucket)))
        .ServerSideEncryptionConfiguration?.Rules?.[0]
        ?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    ).toBe('AES256');
    const policy = JSON.parse(
      (await s3.send(new GetBucketPolicyCommand(bucket))).Policy ?? '{}',
    );
    expect(JSON.stringify(policy)).toContain('aws:SecureTransport');

    const role = (
      await new IAMClient({ region }).send(
        new GetRoleCommand({ RoleName: names.roleName }),
      )
    ).Role;
    expect(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '')).toContain(
      'pods.eks.amazonaws.com',
    );
  });

  it('runs the MLflow pods, which answer through the tracking URL and reach the database', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    // Under heavy load a probe can fail and restart the pod; it must come back ready.
    await eventually(
      async () => {
        const deployment = await apps.readNamespacedDeployment({
          namespace: names.namespace,
          name,
        });
        expect(deployment.status?.readyReplicas).toBe(1);
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({
      namespace: names.namespace,
      name: resolveInstanceNames({ name }).databaseSecretName,
    });
    expect(Object.keys(secret.data ?? {})).toContain(
      'MLFLOW_BACKEND_STORE_URI',
    );

    // Sign-in is on by default: the admin's login is in its Secret only.
    const auth = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({
      namespace: names.namespace,
      name: resolveInstanceNames({ name }).authSecretName,
    });
    const field = (key: string) =>
      Buffer.from(auth.data?.[key] ?? '', 'base64').toString();
    const asAdmin = {
      Authorization: `Basic ${Buffer.from(
        `${field('admin-username')}:${field('admin-password')}`,
      ).toString('base64')}`,
    };
    expect(field('admin-password')).toMatch(/^.{32,}$/);
    expect(JSON.stringify(first.output)).not.toContain(field('admin-password'));

    const trackingUrl = `http://${hostname}`;
    await eventually(
      async () => {
        const health = await fetch(`${trackingUrl}/health`);
        expect(health.status).toBe(200);
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    // Unlike /health, creating an experiment goes through the PostgreSQL backend store.
    const create = (headers: Record<string, string>) =>
      fetch(`${trackingUrl}/api/2.0/mlflow/experiments/create`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ name: `e2e-${Date.now()}` }),
      });
    expect((await create({})).status).toBe(401);
    const created = await create(asAdmin);
    expect(created.status).toBe(200);
    const { experiment_id: experimentId } = (await created.json()) as {
      experiment_id: string;
    };
    const experiment = (await (
      await fetch(
        `${trackingUrl}/api/2.0/mlflow/experiments/get?experiment_id=${experimentId}`,
        { headers: asAdmin },
      )
    ).json()) as { experiment: { artifact_location: string } };
    expect(experiment.experiment.artifact_location).toMatch(
      /^(s3:\/\/|mlflow-artifacts:)/,
    );
  });

  it('shows the instance and its two resources in the catalog', async () => {
    type ComponentEntity = {
      metadata: { annotations: Record<string, string> };
      spec: { owner: string };
      relations: Array<{ type: string; targetRef: string }>;
    };
    const component = await eventually(
      async () => {
        const entity = await getEntity<ComponentEntity>(
          backend.baseUrl,
          token,
          { kind: 'component', name },
        );
        // The relations appear once the catalog has stitched the entity.
        expect(entity?.relations).toEqual(
          expect.arrayContaining([
            { type: 'dependsOn', targetRef: `resource:default/${name}-db` },
            {
              type: 'dependsOn',
              targetRef: `resource:default/${name}-artifacts`,
            },
          ]),
        );
        return entity!;
      },
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
    expect(component.metadata.annotations).toMatchObject({
      'mlflow.org/tracking-url': `http://${hostname}`,
      'mlflow.org/rds-instance-id': names.rdsInstanceId,
      'mlflow.org/s3-artifact-root': `s3://${names.bucket}/artifacts`,
      'mlflow.org/kubernetes-cluster': 'local',
      'backstage.io/kubernetes-namespace': names.namespace,
    });
    expect(component.spec.owner).toBe('group:default/guests');
    expect(component.relations).toContainEqual({
      type: 'dependsOn',
      targetRef: `resource:default/${name}-artifacts`,
    });
    // The resources come in the same provider pass, but each is processed and stitched on its own.
    for (const resource of [`${name}-db`, `${name}-artifacts`]) {
      expect(
        await waitForEntity(backend.baseUrl, token, {
          kind: 'resource',
          name: resource,
        }),
      ).toMatchObject({ metadata: { name: resource } });
    }
  });

  it('converges when run again with the same values, without a duplicate resource', async () => {
    const second = await scaffolder.runTemplate(TEMPLATE_REF, runValues(name), {
      timeoutMs: 900_000,
    });
    expect(taskOutcome(second)).toEqual(TASK_COMPLETED);
    const after = await awsInventory();
    const mine = (inventory: typeof after) => ({
      rdsInstances: inventory.rdsInstances.filter(
        i => i === names.rdsInstanceId,
      ),
      buckets: inventory.buckets.filter(b => b === names.bucket),
      roles: inventory.roles.filter(r => r === names.roleName),
    });
    expect(mine(after)).toEqual({
      rdsInstances: [names.rdsInstanceId],
      buckets: [names.bucket],
      roles: [names.roleName],
    });
    const deployments = await kc
      .makeApiClient(AppsV1Api)
      .listNamespacedDeployment({ namespace: names.namespace });
    expect(deployments.items.map(d => d.metadata?.name)).toEqual([name]);
  });
});
