import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
} from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { stringify } from 'yaml';
import { getEntity, waitForEntity } from './lib/catalogEntities';
import { devUsersConfig, devUserToken } from './lib/devUsers';
import { eventually } from './lib/eventually';
import {
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
import { instanceSnapshot } from './lib/instanceSnapshot';
import {
  loadTemplate,
  loadTemplateFiles,
  ScaffolderClient,
  TASK_COMPLETED,
  TaskResult,
  taskOutcome,
} from './lib/scaffolderClient';
import { REPO_ROOT, StartedBackend, startBackend } from './lib/startBackend';
import { devInstanceValues } from './lib/templateValues';

jest.setTimeout(1_800_000);

const TEMPLATE_REF = 'template:default/mlflow-production';
const STEPS_TEMPLATE = 'mlflow-tenancy-steps';
const GUESTS = 'group:default/guests';

type Component = {
  metadata: { annotations: Record<string, string> };
  spec: { owner: string };
};

/** The Create form's values for a small dev instance on the stack. */
function formValues(name: string, overrides: Record<string, unknown> = {}) {
  return devInstanceValues(name, {
    description: 'Tenancy test instance',
    ...overrides,
  });
}

/**
 * A template running one provisioning step on its own with any input, as a template author could
 * write it: the confused-deputy cases go around the production template's plan step.
 */
function stepsTemplate() {
  const input = (extra: Record<string, string>) => ({
    name: '${{ parameters.name }}',
    region: readStackEnv().awsRegion,
    owner: '${{ parameters.owner }}',
    ...extra,
  });
  return {
    apiVersion: 'scaffolder.backstage.io/v1beta3',
    kind: 'Template',
    metadata: { name: STEPS_TEMPLATE, title: 'Tenancy test: one step' },
    spec: {
      owner: GUESTS,
      type: 'service',
      parameters: [
        {
          properties: {
            step: { type: 'string', enum: ['database', 'role'] },
            name: { type: 'string' },
            owner: { type: 'string' },
            instanceId: { type: 'string' },
            masterSecretArn: { type: 'string' },
            bucket: { type: 'string' },
            kmsKeyArn: { type: 'string' },
          },
        },
      ],
      steps: [
        {
          id: 'database',
          name: 'Database step',
          if: "${{ parameters.step == 'database' }}",
          action: 'mlflow:database:create',
          input: input({
            instanceId: '${{ parameters.instanceId }}',
            masterSecretArn: '${{ parameters.masterSecretArn }}',
            cluster: 'local',
          }),
        },
        {
          id: 'role',
          name: 'Role step',
          if: "${{ parameters.step == 'role' }}",
          action: 'mlflow:iam:createRole',
          input: input({
            bucket: '${{ parameters.bucket }}',
            kmsKeyArn: '${{ parameters.kmsKeyArn }}',
            trustType: 'podIdentity',
          }),
        },
      ],
    },
  };
}

describe('who may change an MLflow instance, through the real endpoints on the stack', () => {
  const suffix = Date.now().toString(36);
  const name = `tn-${suffix}`;
  const names = defaultResourceNames(name);
  const forgedNamespace = `forged-${suffix}`;
  const adoptedNamespace = `forged-adopted-${suffix}`;
  const region = readStackEnv().awsRegion;
  const secrets = new SecretsManagerClient({ region });
  let otherSecretArn: string | undefined;
  let backend: StartedBackend;
  let guestToken: string;
  let guest: ScaffolderClient;
  let mallory: ScaffolderClient;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let created: TaskResult;

  const waitForOwner = (owner: string) =>
    eventually(
      async () => {
        const entity = await getEntity<Component>(backend.baseUrl, guestToken, {
          kind: 'component',
          name,
        });
        expect(entity?.spec.owner).toBe(owner);
        return entity!;
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );

  beforeAll(async () => {
    const env = readStackEnv();
    const kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    for (const namespace of [forgedNamespace, adoptedNamespace]) {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
    }
    const dir = mkdtempSync(join(tmpdir(), 'e2e-tenancy-'));
    const stepsFile = join(dir, 'template.yaml');
    writeFileSync(stepsFile, stringify(stepsTemplate()));
    backend = await startBackend({
      configPaths: [env.appConfigPath],
      extraConfig: {
        ...devUsersConfig(['user:default/mallory']),
        mlflow: { catalog: { refreshIntervalSeconds: 5 } },
        catalog: {
          providers: {
            mlflow: {
              schedule: { frequency: { seconds: 3 }, timeout: { minutes: 1 } },
              adoptNamespaces: [
                { namespace: adoptedNamespace, owner: 'group:default/unknown' },
              ],
            },
          },
          // app-config.yaml's locations (absolute here) plus the one-step template.
          locations: [
            {
              type: 'file',
              target: join(REPO_ROOT, 'templates/*/template.yaml'),
              rules: [{ allow: ['Template'] }],
            },
            {
              type: 'file',
              target: join(REPO_ROOT, 'examples/org.yaml'),
              rules: [{ allow: ['User', 'Group'] }],
            },
            {
              type: 'file',
              target: stepsFile,
              rules: [{ allow: ['Template'] }],
            },
          ],
        },
      },
    });
    // Tokens carry the memberships the catalog had at sign-in: sign in once the users are there.
    const reader = await backend.guestToken();
    for (const entity of [
      { kind: 'user', name: 'guest' },
      { kind: 'user', name: 'mallory' },
      { kind: 'template', name: 'mlflow-production' },
      { kind: 'template', name: STEPS_TEMPLATE },
    ]) {
      await waitForEntity(backend.baseUrl, reader, entity);
    }
    guestToken = await backend.guestToken();
    guest = new ScaffolderClient(backend.baseUrl, guestToken);
    mallory = new ScaffolderClient(
      backend.baseUrl,
      await devUserToken(backend.baseUrl, 'mallory'),
    );
    // One instance for the whole file, created by the guest for the guests group.
    created = await guest.runTemplate(TEMPLATE_REF, formValues(name), {
      timeoutMs: 900_000,
    });
  });

  afterAll(async () => {
    await backend?.stop();
    for (const namespace of [forgedNamespace, adoptedNamespace]) {
      await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
    if (otherSecretArn) {
      await secrets
        .send(
          new DeleteSecretCommand({
            SecretId: otherSecretArn,
            ForceDeleteWithoutRecovery: true,
          }),
        )
        .catch(() => undefined);
    }
    await deleteInstanceResources(names);
  });

  it('lets the guest create an instance owned by the guests group', async () => {
    expect(taskOutcome(created)).toEqual(TASK_COMPLETED);
    const entity = await waitForOwner(GUESTS);
    expect(entity.metadata.annotations['mlflow.org/trusted']).toBe('true');
  });

  it("refuses mallory's task and dry-run on the guest's instance before any change, naming the owner", async () => {
    const before = await instanceSnapshot(names);
    const takeOver = formValues(name, {
      owner: 'group:default/intruders',
      image: 'ghcr.io/acme/mlflow-server:6.6.6',
    });
    const refusal = new RegExp(
      `user:default/mallory may not change MLflow instance "${name}" \\(component:default/${name}\\), owned by ${GUESTS} \\(nor transfer it to group:default/intruders\\)`,
    );

    const task = await mallory.runTemplate(TEMPLATE_REF, takeOver, {
      timeoutMs: 300_000,
    });
    expect(task.status).toBe('failed');
    expect(task.log[task.log.length - 1]).toMatch(refusal);

    const dryRun = await mallory.dryRun({
      template: loadTemplate(REPO_ROOT, 'mlflow-production'),
      values: takeOver,
      directoryContents: loadTemplateFiles(REPO_ROOT, 'mlflow-production'),
    });
    expect(dryRun.status).toBe(403);
    expect(
      (dryRun.body as { error?: { message?: string } }).error?.message,
    ).toMatch(refusal);

    expect(await instanceSnapshot(names)).toEqual(before);
    expect(
      (
        await getEntity<Component>(backend.baseUrl, guestToken, {
          kind: 'component',
          name,
        })
      )?.spec.owner,
    ).toBe(GUESTS);
  });

  describe('confused deputies: steps given what is not the instance, refused and nothing changed', () => {
    /** Runs the one-step template as the owner, as a task and a dry-run, around two snapshots. */
    async function runBoth(values: Record<string, string>) {
      const before = await instanceSnapshot(names);
      const task = await guest.runTemplate(
        `template:default/${STEPS_TEMPLATE}`,
        values,
        { timeoutMs: 300_000 },
      );
      const dryRun = await guest.dryRun({ template: stepsTemplate(), values });
      return {
        task: { status: task.status, error: task.log[task.log.length - 1] },
        dryRun: {
          status: dryRun.status,
          error: (dryRun.body as { error?: { message?: string } }).error
            ?.message,
        },
        before,
        after: await instanceSnapshot(names),
      };
    }

    /** Both refused as an input error whose message has these parts, in this order. */
    const refused = (...parts: string[]) => {
      const message = new RegExp(
        parts
          .map(part => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[\\s\\S]*'),
      );
      return {
        task: { status: 'failed', error: expect.stringMatching(message) },
        dryRun: { status: 400, error: expect.stringMatching(message) },
      };
    };

    it("refuses the database step another instance's RDS instance", async () => {
      const probe = `tp-${suffix}`;
      const run = await runBoth({
        step: 'database',
        name: probe,
        owner: GUESTS,
        instanceId: names.rdsInstanceId,
      });
      expect(run).toMatchObject(
        refused(
          `Invalid instanceId: received "${names.rdsInstanceId}", but that RDS instance was not created for MLflow instance "${probe}"`,
        ),
      );
      expect(run.after).toEqual(run.before);
      // Not even the probe's namespace was created.
      await expect(
        core.readNamespace({ name: defaultResourceNames(probe).namespace }),
      ).rejects.toMatchObject({ code: 404 });
    });

    it('refuses the database step a master secret that is not its RDS instance’s own', async () => {
      const other = await secrets.send(
        new CreateSecretCommand({
          Name: `rds!db-tenancy-other-${suffix}`,
          SecretString: JSON.stringify({ username: 'x', password: 'y' }),
        }),
      );
      otherSecretArn = other.ARN!;
      const [instance] =
        (
          await new RDSClient({ region }).send(
            new DescribeDBInstancesCommand({
              DBInstanceIdentifier: names.rdsInstanceId,
            }),
          )
        ).DBInstances ?? [];
      const run = await runBoth({
        step: 'database',
        name,
        owner: GUESTS,
        instanceId: names.rdsInstanceId,
        masterSecretArn: otherSecretArn,
      });
      expect(run).toMatchObject(
        refused(
          // The received value is shortened in the message when it is long.
          `Invalid masterSecretArn: received "${otherSecretArn.slice(0, 60)}`,
          `", but that is not the managed master secret of RDS instance ${
            names.rdsInstanceId
          } (${instance.MasterUserSecret!.SecretArn})`,
        ),
      );
      expect(run.after).toEqual(run.before);
    });

    it('refuses the role step a KMS key the operator did not allow', async () => {
      const key = `arn:aws:kms:${region}:123456789012:key/00000000-0000-4000-8000-00000000beef`;
      const run = await runBoth({
        step: 'role',
        name,
        owner: GUESTS,
        bucket: names.bucket,
        kmsKeyArn: key,
      });
      expect(run).toMatchObject(
        refused(
          `Invalid kmsKeyArn: received "${key}", but the operator allows the server's role only the KMS keys`,
        ),
      );
      expect(run.after).toEqual(run.before);
    });
  });

  it("never trusts a copy of the instance's Deployment in another namespace, nor lets it change the entity", async () => {
    const real = await apps.readNamespacedDeployment({
      namespace: names.namespace,
      name,
    });
    const copy = (namespace: string): V1Deployment => ({
      metadata: {
        name,
        namespace,
        labels: real.metadata?.labels,
        // Every annotation, the identity signature included.
        annotations: {
          ...real.metadata?.annotations,
          'mlflow.org/owner': 'group:default/intruders',
        },
      },
      spec: { ...real.spec!, replicas: 0 },
    });
    const verbatim = copy(forgedNamespace);
    verbatim.metadata!.annotations = real.metadata?.annotations;
    await apps.createNamespacedDeployment({
      namespace: forgedNamespace,
      body: verbatim,
    });
    await apps.createNamespacedDeployment({
      namespace: adoptedNamespace,
      body: copy(adoptedNamespace),
    });

    // The copy in an adopted namespace is listed after the verbatim one: once its entity is
    // there, the catalog has applied a refresh that saw both.
    const adopted = await eventually(
      async () => {
        const entity = await getEntity<Component>(backend.baseUrl, guestToken, {
          kind: 'component',
          namespace: 'mlflow-adopted',
          name,
        });
        expect(entity).toBeDefined();
        return entity!;
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    expect(backend.output()).toContain(
      `Ignoring MLflow Deployment ${forgedNamespace}/${name} in cluster local: its identity signature does not verify`,
    );
    expect(adopted.spec.owner).toBe('group:default/unknown');
    expect(adopted.metadata.annotations['mlflow.org/trusted']).toBeUndefined();
    expect(adopted.metadata.annotations['mlflow.org/adopted']).toBe('true');
    // The copied annotations are ignored: no health check gets the instance's RDS id or URL.
    expect(adopted.metadata.annotations).not.toHaveProperty(
      'mlflow.org/rds-instance-id',
    );
    expect(adopted.metadata.annotations).not.toHaveProperty(
      'mlflow.org/tracking-url',
    );

    const entity = await getEntity<Component>(backend.baseUrl, guestToken, {
      kind: 'component',
      name,
    });
    expect(entity?.spec.owner).toBe(GUESTS);
    expect(entity?.metadata.annotations).toMatchObject({
      'mlflow.org/trusted': 'true',
      'backstage.io/kubernetes-namespace': names.namespace,
    });
  });

  it('lets the owner rerun the instance, transfer it and take it back; each run converges', async () => {
    const toUser = await guest.runTemplate(
      TEMPLATE_REF,
      formValues(name, { owner: 'user:default/guest' }),
      { timeoutMs: 900_000 },
    );
    expect(taskOutcome(toUser)).toEqual(TASK_COMPLETED);
    await waitForOwner('user:default/guest');
    expect(
      (
        await apps.readNamespacedDeployment({
          namespace: names.namespace,
          name,
        })
      ).metadata?.annotations?.['mlflow.org/owner'],
    ).toBe('user:default/guest');

    const back = await guest.runTemplate(TEMPLATE_REF, formValues(name), {
      timeoutMs: 900_000,
    });
    expect(taskOutcome(back)).toEqual(TASK_COMPLETED);
    await waitForOwner(GUESTS);
  });
});
