import {
  NameRule,
  nameRules,
  rangeRules,
} from '@stateful-mlflow/plugin-mlflow-common';
import { loadTemplate } from '../lib/scaffolderClient';
import { REPO_ROOT } from '../lib/startBackend';

/** Every form field of a template by name, across its pages. */
function fieldsOf(form: ReturnType<typeof loadTemplate>) {
  return new Map<string, Record<string, unknown>>(
    form.spec.parameters.flatMap(page => Object.entries(page.properties)),
  );
}

const template = loadTemplate(REPO_ROOT, 'mlflow-production');
const fields = fieldsOf(template);

type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  dependencies?: Record<string, { oneOf?: Schema[] }>;
  allOf?: Array<{ if?: Schema; then?: Schema; else?: Schema }>;
};

/**
 * Every place of the form that gives `field` a pattern: its own properties, the branches of its
 * page's dependencies and conditions. A rule must live in exactly one of them.
 */
function patternsOf(field: string): Schema[] {
  const pages = template.spec.parameters as unknown as Schema[];
  const schemas = pages.flatMap(page => [
    page.properties?.[field],
    ...Object.values(page.dependencies ?? {}).flatMap(d =>
      (d.oneOf ?? []).map(branch => branch.properties?.[field]),
    ),
    ...(page.allOf ?? []).flatMap(c => [
      c.then?.properties?.[field],
      c.else?.properties?.[field],
    ]),
  ]);
  return schemas.filter((s): s is Schema => !!s && 'pattern' in s);
}

const ACCOUNT = '123456789012';
const OIDC = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com`;

/** A form field checked by a rule, with good and bad values both must agree on. */
type MirroredField = {
  field: string;
  rule: NameRule;
  good: string[];
  bad: string[];
};

/** Each field of the mlflow-production form checked by a rule. */
const mirrored: MirroredField[] = [
  {
    field: 'name',
    rule: nameRules.instanceName,
    good: ['demo', 'ab', 'mlflow-demo', 'a'.repeat(40)],
    bad: ['a', 'Demo', '1demo', 'demo-', 'de--mo', 'demo_db', 'a'.repeat(41)],
  },
  {
    field: 'region',
    rule: nameRules.awsRegion,
    good: ['eu-west-1', 'us-gov-west-1'],
    bad: ['europe-west', 'EU-WEST-1', 'eu-west'],
  },
  {
    field: 'instanceClass',
    rule: nameRules.rdsInstanceClass,
    good: ['db.t4g.small', 'db.m7g.large'],
    bad: ['t4g.small', 'db.t4g', 'db.T4G.small'],
  },
  {
    field: 'engineVersion',
    rule: nameRules.postgresEngineVersion,
    good: ['17', '17.4'],
    bad: ['17.x', 'v17', '17.4.1'],
  },
  {
    field: 'dbSubnetGroupName',
    rule: nameRules.dbSubnetGroupName,
    good: ['private db subnets', 'default'],
    bad: ['subnets;drop', 'a'.repeat(256)],
  },
  {
    field: 'databaseName',
    rule: nameRules.postgresDatabaseName,
    good: ['mlflow_demo', 'a'],
    bad: ['pg_demo', 'postgres', 'template1', "x'; DROP TABLE runs;--", 'Demo'],
  },
  {
    field: 'databaseUsername',
    rule: nameRules.postgresRoleName,
    good: ['mlflow_demo', 'postgresql'],
    bad: ['public', 'rds_admin', 'current_user', 'a-b'],
  },
  {
    field: 'bucketName',
    rule: nameRules.s3BucketName,
    good: ['mlflow-demo-artifacts', 'my.bucket.name'],
    bad: ['xn--demo', 'demo-s3alias', '192.168.1.1', 'a..b', 'ab', 'Demo'],
  },
  {
    field: 'retainedBucket',
    rule: nameRules.s3BucketName,
    good: ['mlflow-old-artifacts', 'my.bucket.name'],
    bad: ['xn--demo', 'demo-s3alias', '192.168.1.1', 'a..b', 'ab', 'Demo'],
  },
  {
    field: 'kmsKeyId',
    rule: nameRules.kmsKeyArn,
    good: [`arn:aws:kms:eu-west-1:${ACCOUNT}:key/1111-2222`],
    bad: [`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/mlflow`, 'alias/mlflow'],
  },
  {
    field: 'cluster',
    rule: nameRules.clusterName,
    good: ['local', 'eks-prod.eu_1'],
    bad: ['-local', 'a b'],
  },
  {
    field: 'namespace',
    rule: nameRules.kubernetesNamespace,
    good: ['mlflow-demo', '0ml'],
    bad: ['kube-system', 'ML', 'ns\n---\nkind: ClusterRoleBinding'],
  },
  {
    field: 'image',
    rule: nameRules.containerImage,
    good: [
      'ghcr.io/mlflow/mlflow:v3.1.0',
      `r.io:5000/a/b@sha256:${'a'.repeat(64)}`,
    ],
    bad: ['mlflow:latest; rm -rf /', 'GHCR.io/a'],
  },
  {
    field: 'hostname',
    rule: nameRules.hostname,
    good: ['demo.mlflow.localhost', 'mlflow.example.com', '1a.example.com'],
    bad: [
      '169.254.169.254',
      '10.0.0.1',
      '[::1]',
      '::1',
      'demo.example.123',
      'localhost',
      'demo.example.com\nkind: Secret',
    ],
  },
  {
    field: 'ingressClassName',
    rule: nameRules.kubernetesName,
    good: ['nginx', 'alb-internal'],
    bad: ['Nginx', 'nginx_', 'a'.repeat(64)],
  },
  {
    field: 'tlsSecretName',
    rule: nameRules.kubernetesName,
    good: ['demo-tls', 'wildcard-example-com'],
    bad: ['Demo-TLS', 'demo.tls', 'a'.repeat(64)],
  },
  {
    field: 'tlsClusterIssuer',
    rule: nameRules.kubernetesName,
    good: ['letsencrypt', 'letsencrypt-prod'],
    bad: ['Lets Encrypt', '-issuer', 'a'.repeat(64)],
  },
  {
    field: 'roleName',
    rule: nameRules.iamRoleName,
    good: ['mlflow-demo', 'Role+=,.@_-'],
    bad: ['role name', 'a'.repeat(65)],
  },
  {
    field: 'oidcProviderArn',
    rule: nameRules.oidcProviderArn,
    good: [`${OIDC}/id/ABC123`, `${OIDC}/id/EXAMPLED539D4633E53DE1B71EXAMPLE`],
    bad: [
      `${OIDC}/id/ABC/`,
      `${OIDC}//id/ABC`,
      `arn:aws:iam::123:oidc-provider/oidc.example.com`,
      `arn:aws:iam::${ACCOUNT}:role/oidc`,
    ],
  },
];

describe('the mlflow-production form', () => {
  it.each(mirrored.map(m => [m.field, m] as const))(
    'field %s has the pattern and lengths of its rule, in one place',
    (_field, { field, rule }) => {
      const schemas = patternsOf(field);
      expect(schemas).toHaveLength(1);
      expect(schemas[0]).toMatchObject({
        pattern: rule.pattern,
        minLength: rule.minLength,
        maxLength: rule.maxLength,
      });
    },
  );

  it.each(mirrored.map(m => [m.field, m] as const))(
    'field %s accepts the good and refuses the bad values, as its rule does',
    (_field, { field, good, bad, rule }) => {
      const [schema] = patternsOf(field);
      const pattern = new RegExp(String(schema.pattern), 'u');
      const verdicts = (values: string[]) =>
        values.map(value => ({
          value,
          form:
            pattern.test(value) &&
            value.length >= Number(schema.minLength) &&
            value.length <= Number(schema.maxLength),
          rule: rule.check(value) === undefined,
        }));
      expect(verdicts(good)).toEqual(
        good.map(value => ({ value, form: true, rule: true })),
      );
      expect(verdicts(bad)).toEqual(
        bad.map(value => ({ value, form: false, rule: false })),
      );
    },
  );

  it('asks for the security groups with the security group id rule', () => {
    const items = fields.get('allowedSecurityGroupIds')?.items;
    expect(items).toMatchObject({
      pattern: nameRules.securityGroupId.pattern,
      minLength: nameRules.securityGroupId.minLength,
      maxLength: nameRules.securityGroupId.maxLength,
    });
  });

  it('runs the slow RDS creation first without waiting, and waits once, in the database step', () => {
    const actions = template.spec.steps.map(s => s.action);
    expect(actions.slice(0, 6)).toEqual([
      'mlflow:instance:plan',
      'mlflow:rds:create',
      'mlflow:s3:create',
      'mlflow:iam:createRole',
      'mlflow:database:create',
      'mlflow:kubernetes:deploy',
    ]);
    const rds = template.spec.steps.find(s => s.action === 'mlflow:rds:create');
    expect(rds?.input?.waitForAvailable).toBe(false);
  });

  it('refuses anonymous access in prod in the form, and hands the choice to the plan and deploy steps', () => {
    const pages = template.spec.parameters as unknown as Schema[];
    const prodConditions = pages
      .flatMap(page => page.allOf ?? [])
      .filter(c => c.if?.properties?.environment?.const === 'prod');
    const anonymousInProd = prodConditions.map(
      c => c.then?.properties?.allowAnonymousAccess,
    );
    expect(anonymousInProd).toContainEqual(
      expect.objectContaining({ const: false }),
    );
    expect(fields.get('allowAnonymousAccess')).toMatchObject({
      type: 'boolean',
      default: false,
    });
    for (const action of ['mlflow:instance:plan', 'mlflow:kubernetes:deploy']) {
      const step = template.spec.steps.find(s => s.action === action);
      expect(step?.input?.allowAnonymousAccess).toBe(
        '${{ parameters.allowAnonymousAccess or false }}',
      );
    }
  });

  it('asks for the default permission of signed-in users, READ unless chosen', () => {
    expect(fields.get('defaultPermission')).toMatchObject({
      enum: ['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'],
      default: 'READ',
    });
    const database = template.spec.steps.find(
      s => s.action === 'mlflow:database:create',
    );
    expect(database?.input?.defaultPermission).toBe(
      "${{ parameters.defaultPermission or 'READ' }}",
    );
  });

  it("deploys with the database step's sign-in Secrets and names the admin Secret in the output, never its value", () => {
    const deploy = template.spec.steps.find(
      s => s.action === 'mlflow:kubernetes:deploy',
    );
    expect(deploy?.input).toMatchObject({
      authSecretName: '${{ steps.database.output.authSecretName }}',
      healthSecretName: '${{ steps.database.output.healthSecretName }}',
    });
    const text = JSON.stringify(template.spec.output);
    expect(text).toContain('steps.deploy.output.authSecretName');
    expect(text).toContain('MLFLOW_TRACKING_USERNAME');
    expect(text).toContain('MLFLOW_TRACKING_PASSWORD');
    expect(text).not.toMatch(/password1234|PGPASSWORD/);
  });

  it('publishes and registers only when a repository is asked for', () => {
    for (const step of template.spec.steps.filter(s =>
      ['publish:github', 'catalog:register', 'fetch:template'].includes(
        s.action,
      ),
    )) {
      expect(step.if).toBe('${{ parameters.publish }}');
    }
  });
});

describe('the mlflow-upgrade form', () => {
  const upgrade = loadTemplate(REPO_ROOT, 'mlflow-upgrade');
  const upgradeFields = fieldsOf(upgrade);
  // The upgrade form's fields with a rule are production form fields: the same good and bad values.
  const patterned = mirrored.filter(m =>
    ['instanceClass', 'tlsSecretName', 'tlsClusterIssuer'].includes(m.field),
  );

  it.each(patterned.map(m => [m.field, m] as const))(
    'field %s has the pattern and lengths of its rule and agrees with it',
    (_field, { field, rule, good, bad }) => {
      const schema = upgradeFields.get(field)!;
      expect(schema).toMatchObject({
        pattern: rule.pattern,
        minLength: rule.minLength,
        maxLength: rule.maxLength,
      });
      const pattern = new RegExp(String(schema.pattern), 'u');
      const form = (value: string) =>
        pattern.test(value) &&
        value.length >= rule.minLength &&
        value.length <= rule.maxLength;
      expect(good.map(v => [v, form(v), rule.check(v)])).toEqual(
        good.map(v => [v, true, undefined]),
      );
      expect(bad.map(v => [v, form(v), rule.check(v) === undefined])).toEqual(
        bad.map(v => [v, false, false]),
      );
    },
  );

  it.each([
    ['allocatedStorageGiB', rangeRules.rdsAllocatedStorageGiB],
    ['backupRetentionDays', rangeRules.rdsBackupRetentionDays],
  ] as const)(
    'field %s has the bounds of its rule, in both forms',
    (field, rule) => {
      for (const form of [upgradeFields, fields]) {
        expect(form.get(field)).toMatchObject({
          type: 'integer',
          minimum: rule.minimum,
          maximum: rule.maximum,
        });
      }
      expect(rule.check(rule.minimum - 1)).toBeDefined();
      expect(rule.check(rule.maximum + 1)).toBeDefined();
    },
  );

  it('plans first, snapshots only for a new image, changes RDS only when the plan says so, and hands the snapshot to the deploy step', () => {
    const steps = upgrade.spec.steps;
    expect(steps.map(s => s.action)).toEqual([
      'mlflow:instance:planUpgrade',
      'mlflow:rds:snapshot',
      'mlflow:rds:modify',
      'mlflow:kubernetes:deploy',
      'mlflow:instance:checkHealth',
    ]);
    expect(steps[1].if).toBe('${{ steps.plan.output.imageChanged }}');
    expect(steps[2].if).toBe('${{ steps.plan.output.rdsChanged }}');
    expect(steps[3].input?.preUpgradeSnapshotId).toBe(
      '${{ steps.snapshot.output.snapshotId }}',
    );
    for (const step of [steps[0], steps[2]]) {
      expect(step.input).toMatchObject({
        instanceClass: '${{ parameters.instanceClass }}',
        applyImmediately: '${{ parameters.applyImmediately or false }}',
        liftDeletionProtection:
          '${{ parameters.liftDeletionProtection or false }}',
      });
    }
  });
});
