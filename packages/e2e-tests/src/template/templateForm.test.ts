import { NameRule, nameRules } from '@stateful-mlflow/plugin-mlflow-common';
import { loadTemplate } from '../lib/scaffolderClient';
import { REPO_ROOT } from '../lib/startBackend';

const template = loadTemplate(REPO_ROOT, 'mlflow-production');

/** Every form field by name, across the pages. */
const fields = new Map<string, Record<string, unknown>>(
  template.spec.parameters.flatMap(page => Object.entries(page.properties)),
);

/** The form fields whose values the actions check with a naming rule. */
const mirrored: Array<[string, NameRule]> = [
  ['name', nameRules.instanceName],
  ['region', nameRules.awsRegion],
  ['databaseName', nameRules.postgresDatabaseName],
  ['databaseUsername', nameRules.postgresRoleName],
  ['bucketName', nameRules.s3BucketName],
  ['namespace', nameRules.kubernetesNamespace],
  ['image', nameRules.containerImage],
  ['hostname', nameRules.hostname],
  ['roleName', nameRules.iamRoleName],
];

const samples = [
  'demo',
  'a',
  'ab',
  'Demo',
  '1demo',
  'demo-',
  'de--mo',
  'demo_db',
  'pg_demo',
  'postgres',
  'public',
  'xn--demo',
  'demo-s3alias',
  '192.168.1.1',
  'demo.mlflow.localhost',
  'kube-system',
  "x'; DROP TABLE runs;--",
  'a: b\nc: d',
  'ghcr.io/mlflow/mlflow:v3.1.0',
  'eu-west-1',
  'mlflow-demo',
  'a'.repeat(41),
  'a'.repeat(64),
];

describe('the mlflow-production form', () => {
  it.each(mirrored)(
    'field %s uses the pattern and lengths of the action validator',
    (field, rule) => {
      const schema = fields.get(field);
      expect(schema).toBeDefined();
      expect(schema).toMatchObject({
        pattern: rule.pattern,
        minLength: rule.minLength,
        maxLength: rule.maxLength,
      });
    },
  );

  it.each(mirrored)(
    'field %s accepts and rejects the same sample values as the action validator',
    (_field, rule) => {
      const pattern = new RegExp(rule.pattern, 'u');
      for (const value of samples) {
        const formAccepts =
          pattern.test(value) &&
          value.length >= rule.minLength &&
          value.length <= rule.maxLength;
        expect({ value, accepted: formAccepts }).toEqual({
          value,
          accepted: rule.check(value) === undefined,
        });
      }
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
