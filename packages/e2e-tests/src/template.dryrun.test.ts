import { parseAllDocuments } from 'yaml';
import {
  loadTemplate,
  loadTemplateFiles,
  ScaffolderClient,
} from './lib/scaffolderClient';
import {
  defaultResourceNames,
  InstanceResources,
  instanceResources,
} from './lib/instanceResources';
import { REPO_ROOT, StartedBackend, startBackend } from './lib/startBackend';
import { readStackEnv } from '@internal/stack-env';

jest.setTimeout(600_000);

const nothing: InstanceResources = {
  rdsInstances: [],
  buckets: [],
  roles: [],
  namespaces: [],
  deployments: [],
};

/** Good values for the dry-run: everything the Create form would send. */
function goodValues(name: string): Record<string, unknown> {
  return {
    name,
    owner: 'group:default/guests',
    environment: 'dev',
    description: 'Dry-run test instance',
    region: 'eu-west-1',
    instanceClass: 'db.t4g.small',
    allocatedStorageGiB: 20,
    engineVersion: '17',
    noncurrentVersionExpirationDays: 30,
    cluster: 'local',
    replicas: 1,
    image: 'ghcr.io/acme/mlflow-server:3.1.0',
    hostname: `${name}.mlflow.localhost`,
    trustType: 'podIdentity',
    publish: false,
  };
}

const OIDC_PROVIDER =
  'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com';

/**
 * Bad values, each with the field the error must name. The form (the template's parameter schema)
 * catches all but the unknown cluster; the actions catch every one of them.
 */
const badValues: Array<[string, Record<string, unknown>, RegExp, RegExp]> = [
  [
    'an invalid instance name',
    { name: 'Bad_Name' },
    /name/,
    /Invalid name \(instance name\): received "Bad_Name"/,
  ],
  [
    'a too long instance name',
    { name: `a${'b'.repeat(40)}` },
    /name/,
    /Invalid name \(instance name\): received "ab+", but it is 41 characters long, the maximum is 40/,
  ],
  [
    'a reserved bucket prefix',
    { bucketName: 'xn--mlflow-artifacts' },
    /bucketName/,
    /Invalid bucket \(S3 bucket name\): received "xn--mlflow-artifacts", but the prefix xn-- is reserved by S3/,
  ],
  [
    'SQL injection in the database name',
    { databaseName: 'mlflow; DROP DATABASE postgres' },
    /databaseName/,
    /Invalid databaseName \(PostgreSQL database name\): received "mlflow; DROP DATABASE postgres"/,
  ],
  [
    'SQL injection in the database role',
    { databaseUsername: "x' OR '1'='1" },
    /databaseUsername/,
    /Invalid databaseUsername \(PostgreSQL role name\)/,
  ],
  [
    'YAML injection in the hostname',
    { hostname: 'demo.example.com\nkind: Secret' },
    /hostname/,
    /Invalid hostname \(hostname\): received "demo\.example\.com\\nkind: Secret"/,
  ],
  [
    'an IP address as the hostname',
    { hostname: '169.254.169.254' },
    /hostname/,
    /Invalid hostname \(hostname\): received "169\.254\.169\.254", but it is an IP address/,
  ],
  [
    'an OIDC provider ARN ending with a slash',
    {
      trustType: 'irsa',
      oidcProviderArn: `${OIDC_PROVIDER}/id/ABC/`,
    },
    /oidcProviderArn/,
    /Invalid oidcProviderArn \(IAM OIDC provider ARN\): received "arn:aws:iam::.*", but the issuer must not end with a slash/,
  ],
  [
    'an OIDC provider ARN with an empty path segment',
    {
      trustType: 'irsa',
      oidcProviderArn: `${OIDC_PROVIDER}//id/ABC`,
    },
    /oidcProviderArn/,
    /Invalid oidcProviderArn \(IAM OIDC provider ARN\): received "arn:aws:iam::.*", but the issuer must not contain an empty path segment/,
  ],
  [
    'YAML injection in the namespace',
    { namespace: 'ns\n---\nkind: ClusterRoleBinding' },
    /namespace/,
    /Invalid namespace \(Kubernetes namespace\)/,
  ],
];

/** The template with its form constraints removed, as an API caller bypassing the form sees it. */
function withoutFormConstraints(
  template: ReturnType<typeof loadTemplate>,
): ReturnType<typeof loadTemplate> {
  const copy = structuredClone(template);
  type Properties = Record<string, Record<string, unknown>>;
  const pages = copy.spec.parameters as Array<{
    properties: Properties;
    allOf?: Array<{ then?: { properties?: Properties } }>;
  }>;
  for (const page of pages) {
    const conditional = (page.allOf ?? []).map(c => c.then?.properties ?? {});
    for (const properties of [page.properties, ...conditional]) {
      for (const property of Object.values(properties)) {
        delete property.pattern;
        delete property.minLength;
        delete property.maxLength;
      }
    }
  }
  return copy;
}

describe('the mlflow-production dry-run through the real scaffolder backend', () => {
  const template = loadTemplate(REPO_ROOT, 'mlflow-production');
  const name = `dry-${Date.now().toString(36)}`;
  const names = defaultResourceNames(name);
  let backend: StartedBackend;
  let scaffolder: ScaffolderClient;

  beforeAll(async () => {
    const env = readStackEnv();
    const overlay = env.appConfigPath;
    backend = await startBackend({ configPaths: [overlay] });
    scaffolder = new ScaffolderClient(
      backend.baseUrl,
      await backend.guestToken(),
    );
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('starts from a stack without the instance', async () => {
    expect(await instanceResources(names)).toEqual(nothing);
  });

  it('logs the plan of every step, gives deterministic outputs and creates nothing', async () => {
    const first = await scaffolder.dryRun({
      template,
      values: goodValues(name),
    });
    expect(first.status).toBe(200);
    const log = first.body.log.map(l => l.body.message).join('\n');
    expect(log).toMatch(
      new RegExp(`Plan for MLflow instance ${name} \\(dev\\)`),
    );
    expect(log).toMatch(/Plan for bucket mlflow-dry-/);
    expect(log).toMatch(/Dry-run: the cluster accepts Namespace/);
    expect(first.body.output).toEqual({
      links: [
        { title: 'MLflow UI', url: `http://${name}.mlflow.localhost` },
        {
          title: 'Open in catalog',
          icon: 'catalog',
          entityRef: `component:default/${name}`,
        },
      ],
      text: [
        expect.objectContaining({
          content: expect.stringContaining(
            `MLFLOW_TRACKING_URI=http://${name}.mlflow.localhost`,
          ),
        }),
        // How to sign in: the admin Secret by name, never a password.
        expect.objectContaining({
          title: 'Sign in',
          content: expect.stringContaining(`\`${name}-mlflow-auth\``),
        }),
      ],
    });

    const second = await scaffolder.dryRun({
      template,
      values: goodValues(name),
    });
    expect(second.body.output).toEqual(first.body.output);
    expect(await instanceResources(names)).toEqual(nothing);
  });

  it('writes the applied manifests and a catalog-info.yaml for the GitOps repository when publishing', async () => {
    const res = await scaffolder.dryRun({
      template,
      values: {
        ...goodValues(name),
        publish: true,
        repoUrl: 'github.com?owner=acme&repo=mlflow-gitops',
        // as the EntityPicker sends it
        system: 'system:default/ml-platform',
      },
      directoryContents: loadTemplateFiles(REPO_ROOT, 'mlflow-production'),
    });
    expect(res.status).toBe(200);
    const files = Object.fromEntries(
      res.body.directoryContents.map(f => [
        f.path,
        Buffer.from(f.base64Content, 'base64').toString('utf8'),
      ]),
    );
    const documents = (path: string) =>
      parseAllDocuments(files[path] ?? '').map(d => d.toJS());

    expect(
      documents('catalog-info.yaml').map(e => `${e.kind}:${e.metadata.name}`),
    ).toEqual([
      `Component:${name}`,
      `Resource:${name}-db`,
      `Resource:${name}-artifacts`,
    ]);
    const [component] = documents('catalog-info.yaml');
    expect(component.metadata.annotations).toMatchObject({
      'mlflow.org/tracking-url': `http://${name}.mlflow.localhost`,
      'mlflow.org/rds-instance-id': names.rdsInstanceId,
      'backstage.io/kubernetes-namespace': names.namespace,
    });

    // The manifests come from the deploy action's renderer, the same ones it dry-ran against the cluster.
    const manifests = documents('manifests/mlflow.yaml');
    expect(manifests.map(m => m.kind)).toEqual(
      expect.arrayContaining(['Namespace', 'Deployment', 'Service', 'Ingress']),
    );
    const deployment = manifests.find(m => m.kind === 'Deployment');
    expect(deployment.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'mlflow',
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/part-of': 'ml-platform',
    });
    // No Secret is written to the repository; passwords reach the pods only as Secret references.
    expect(manifests.map(m => m.kind)).not.toContain('Secret');
    const passwordEnv = manifests
      .flatMap(m => m.spec?.template?.spec?.containers ?? [])
      .flatMap((c: { env?: { name: string }[] }) => c.env ?? [])
      .filter((e: { name: string }) => /password/i.test(e.name));
    expect(passwordEnv.length).toBeGreaterThan(0);
    for (const env of passwordEnv) {
      expect(env).toEqual({
        name: env.name,
        valueFrom: { secretKeyRef: expect.anything() },
      });
    }
    expect(files['manifests/mlflow.yaml']).not.toMatch(
      /postgresql:\/\/[^@\s/]*:[^@\s/]*@/,
    );
    expect(await instanceResources(names)).toEqual(nothing);
  });

  it.each(badValues)(
    'rejects %s in the form, naming the field, and creates nothing',
    async (_what, values, field) => {
      const res = await scaffolder.dryRun({
        template,
        values: { ...goodValues(name), ...values },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors?.map(e => e.property).join(' ')).toMatch(field);
      expect(await instanceResources(names)).toEqual(nothing);
    },
  );

  it.each(badValues)(
    'fails the dry-run on %s when the form is bypassed, naming the field and the value',
    async (_what, values, _field, message) => {
      const res = await scaffolder.dryRun({
        template: withoutFormConstraints(template),
        values: { ...goodValues(name), ...values },
      });
      expect(res.status).toBe(400);
      expect(
        (res.body as { error?: { message?: string } }).error?.message,
      ).toMatch(message);
      expect(await instanceResources(names)).toEqual(nothing);
    },
  );

  it('fails on an unknown cluster with the list of configured clusters, and creates nothing', async () => {
    const res = await scaffolder.dryRun({
      template,
      values: { ...goodValues(name), cluster: 'no-such-cluster' },
    });
    expect(res.status).toBe(400);
    expect(
      (res.body as { error?: { message?: string } }).error?.message,
    ).toMatch(
      /Invalid cluster: received "no-such-cluster", but no such cluster is configured\. Accepted: local/,
    );
    expect(await instanceResources(names)).toEqual(nothing);
  });
});
