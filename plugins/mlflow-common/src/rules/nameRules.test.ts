import { InputError } from '@backstage/errors';
import { NameRule, validateName } from './nameRule';
import { nameRules } from './nameRules';

function expectAccepted(rule: NameRule, values: string[]) {
  for (const value of values) {
    expect({ value, problem: rule.check(value) }).toEqual({
      value,
      problem: undefined,
    });
    expect(new RegExp(rule.pattern, 'u').test(value)).toBe(true);
  }
}

function expectRejected(rule: NameRule, cases: Array<[string, RegExp]>) {
  for (const [value, problem] of cases) {
    expect({ value, problem: rule.check(value) }).toEqual({
      value,
      problem: expect.stringMatching(problem),
    });
    // The form's pattern must never accept what the action refuses.
    const fitsLength =
      value.length >= rule.minLength && value.length <= rule.maxLength;
    expect({
      value,
      formAccepts: fitsLength && new RegExp(rule.pattern, 'u').test(value),
    }).toEqual({
      value,
      formAccepts: false,
    });
  }
}

describe('nameRules', () => {
  it('instanceName follows DNS label rules with room for suffixes', () => {
    expectAccepted(nameRules.instanceName, [
      'ml',
      'mlflow-prod',
      'team-a-mlflow-2',
    ]);
    expectRejected(nameRules.instanceName, [
      ['m', /minimum is 2/],
      ['a'.repeat(41), /maximum is 40/],
      ['1mlflow', /start with a lowercase letter/],
      ['ml--flow', /two hyphens/],
      ['mlflow-', /end with a hyphen/],
      ['MLflow', /start with a lowercase letter/],
      ["ml'; DROP TABLE x;--", /only contain/],
    ]);
  });

  it('rdsInstanceIdentifier applies the RDS identifier rules', () => {
    expectAccepted(nameRules.rdsInstanceIdentifier, [
      'a',
      'mlflow-prod-db',
      'a'.repeat(63),
    ]);
    expectRejected(nameRules.rdsInstanceIdentifier, [
      ['', /minimum is 1/],
      ['a'.repeat(64), /maximum is 63/],
      ['9db', /start with a lowercase letter/],
      ['my--db', /two consecutive hyphens/],
      ['mydb-', /end with a hyphen/],
      ['my_db', /only contain/],
    ]);
  });

  it('postgres identifiers refuse quoting tricks, reserved names and prefixes', () => {
    expectAccepted(nameRules.postgresDatabaseName, ['mlflow', 'mlflow_db_2']);
    expectRejected(nameRules.postgresDatabaseName, [
      ['template1', /reserved/],
      ['postgres', /reserved/],
      ['pg_mlflow', /pg_ and rds_/],
      ['rds_mlflow', /pg_ and rds_/],
      ['mlflow"; DROP DATABASE postgres; --', /only contain/],
      ['_mlflow', /start with a lowercase letter/],
      ['a'.repeat(64), /maximum is 63/],
    ]);
    expectRejected(nameRules.postgresRoleName, [
      ['public', /reserved/],
      ['mlflow-user', /only contain/],
    ]);
  });

  it('s3BucketName applies every S3 naming rule', () => {
    expectAccepted(nameRules.s3BucketName, [
      'abc',
      'mlflow-prod-artifacts',
      'my.bucket.name',
    ]);
    expectRejected(nameRules.s3BucketName, [
      ['ab', /minimum is 3/],
      ['a'.repeat(64), /maximum is 63/],
      ['My-Bucket', /only contain/],
      ['-bucket', /start with a letter or digit/],
      ['bucket-', /end with a letter or digit/],
      ['my..bucket', /adjacent dots/],
      ['192.168.10.1', /IP address/],
      ['xn--bucket', /prefix xn-- is reserved/],
      ['sthree-bucket', /prefix sthree- is reserved/],
      ['amzn-s3-demo-bucket', /prefix amzn-s3-demo- is reserved/],
      ['bucket-s3alias', /suffix -s3alias is reserved/],
      ['bucket--ol-s3', /suffix --ol-s3 is reserved/],
      ['bucket.mrap', /suffix .mrap is reserved/],
      ['bucket--x-s3', /suffix --x-s3 is reserved/],
      ['bucket--table-s3', /suffix --table-s3 is reserved/],
    ]);
  });

  it('kubernetes names are RFC 1123 labels and kube- namespaces are refused', () => {
    expectAccepted(nameRules.kubernetesNamespace, ['mlflow', 'ml-prod', '0ml']);
    expectRejected(nameRules.kubernetesNamespace, [
      ['kube-system', /reserved/],
      ['ML', /lowercase/],
      ['ml_prod', /lowercase/],
      ['a'.repeat(64), /maximum is 63/],
      ['ml\nkind: Secret', /lowercase/],
    ]);
  });

  it('hostname needs dot-separated DNS labels', () => {
    expectAccepted(nameRules.hostname, [
      'mlflow.example.com',
      'demo.mlflow.localhost',
    ]);
    expectRejected(nameRules.hostname, [
      ['localhost', /at least two labels/],
      ['ml_flow.example.com', /each dot-separated label/],
      ['mlflow.example.com/evil', /each dot-separated label/],
      ['-a.example.com', /each dot-separated label/],
      ['169.254.169.254', /IP address/],
      ['10.0.0.1', /IP address/],
      ['[::1]', /IP address/],
      ['mlflow.example.123', /all digits/],
    ]);
  });

  it('other provider identifiers', () => {
    expectAccepted(nameRules.iamRoleName, [
      'mlflow-prod-server',
      'Role+=,.@_-',
    ]);
    expectRejected(nameRules.iamRoleName, [
      ['role name', /only contain/],
      ['a'.repeat(65), /maximum is 64/],
    ]);
    expectAccepted(nameRules.awsRegion, [
      'eu-west-1',
      'us-east-1',
      'us-gov-west-1',
    ]);
    expectRejected(nameRules.awsRegion, [['europe-west', /region code/]]);
    expectAccepted(nameRules.securityGroupId, [
      'sg-0123abcd',
      'sg-0123456789abcdef0',
    ]);
    expectRejected(nameRules.securityGroupId, [
      ['sg-xyz12345', /not a security group id/],
    ]);
    expectAccepted(nameRules.containerImage, [
      'ghcr.io/mlflow/mlflow:v3.1.0',
      `registry.example.com:5000/team/mlflow@sha256:${'a'.repeat(64)}`,
    ]);
    expectRejected(nameRules.containerImage, [
      ['mlflow:latest; rm -rf /', /not a valid image/],
    ]);
  });
});

describe('validateName', () => {
  it('returns the value when it is accepted', () => {
    expect(validateName(nameRules.instanceName, 'name', 'mlflow-prod')).toBe(
      'mlflow-prod',
    );
  });

  it('throws an InputError naming the field, the value received and what is accepted', () => {
    let error: unknown;
    try {
      validateName(nameRules.rdsInstanceIdentifier, 'instanceId', 'My--DB');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      'Invalid instanceId (RDS instance identifier): received "My--DB", but it must start with a lowercase letter. ' +
        'Accepted: 1 to 63 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen.',
    );
  });

  it('escapes and cuts the received value so it cannot forge log lines', () => {
    const value = `x\nINFO fake line${'a'.repeat(200)}`;
    expect(() => validateName(nameRules.instanceName, 'name', value)).toThrow(
      `received "x\\nINFO fake line${'a'.repeat(64)}…"`,
    );
  });

  it('refuses values that are not strings', () => {
    expect(() => validateName(nameRules.instanceName, 'name', 42)).toThrow(
      'Invalid name (instance name): received a number, but it must be a string.',
    );
    expect(() =>
      validateName(nameRules.instanceName, 'name', undefined),
    ).toThrow(/received nothing/);
  });
});
