import { NameRule } from './nameRule';
import { nameRules } from './nameRules';

/** The rule and its form pattern agree: both accept every good value and refuse every bad one. */
function expectRule(
  rule: NameRule,
  good: string[],
  bad: Array<[string, RegExp]>,
) {
  const formAccepts = (v: string) =>
    v.length >= rule.minLength &&
    v.length <= rule.maxLength &&
    new RegExp(rule.pattern, 'u').test(v);
  for (const value of good) {
    expect({
      value,
      problem: rule.check(value),
      form: formAccepts(value),
    }).toEqual({ value, problem: undefined, form: true });
  }
  for (const [value, problem] of bad) {
    expect({
      value,
      problem: rule.check(value),
      form: formAccepts(value),
    }).toEqual({ value, problem: expect.stringMatching(problem), form: false });
  }
}

const ACCOUNT = '123456789012';

describe('nameRules for ARNs and keys', () => {
  it('oidcProviderArn refuses empty path segments and a trailing slash', () => {
    expectRule(
      nameRules.oidcProviderArn,
      [
        `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123`,
        `arn:aws-cn:iam::${ACCOUNT}:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/X`,
        `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.example.com`,
      ],
      [
        [
          `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC/`,
          /end with a slash/,
        ],
        [
          `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com//id/ABC`,
          /empty path segment/,
        ],
        [`arn:aws:iam::123:oidc-provider/oidc.example.com`, /12-digit account/],
        [`arn:aws:iam::${ACCOUNT}:oidc-provider/localhost/id/A`, /DNS host/],
        [`arn:aws:iam::${ACCOUNT}:role/oidc`, /oidc-provider/],
      ],
    );
  });

  it('kmsKeyId takes ids, ARNs and aliases; kmsKeyArn only key ARNs', () => {
    const keyArn = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
    expectRule(
      nameRules.kmsKeyId,
      [
        keyArn,
        '11111111-2222-3333-4444-555555555555',
        `mrk-${'a'.repeat(32)}`,
        'alias/mlflow',
        `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/mlflow`,
      ],
      [
        ['mlflow', /not a KMS key/],
        ['11111111-2222', /not a KMS key/],
      ],
    );
    expectRule(
      nameRules.kmsKeyArn,
      [keyArn, `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abcd-1234`],
      [
        [`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/mlflow`, /alias cannot/],
        ['alias/mlflow', /not a KMS key ARN/],
        [`arn:aws:kms:eu-west-1:123:key/abcd`, /not a KMS key ARN/],
      ],
    );
  });

  it('role, policy and secret ARNs', () => {
    expectRule(
      nameRules.iamRoleArn,
      [
        `arn:aws:iam::${ACCOUNT}:role/mlflow-demo`,
        `arn:aws:iam::${ACCOUNT}:role/team/ml`,
      ],
      [[`arn:aws:iam::${ACCOUNT}:user/mlflow`, /not an IAM role ARN/]],
    );
    expectRule(
      nameRules.iamPolicyArn,
      [
        `arn:aws:iam::${ACCOUNT}:policy/boundary`,
        'arn:aws:iam::aws:policy/PowerUserAccess',
      ],
      [[`arn:aws:iam::${ACCOUNT}:role/boundary`, /not an IAM policy ARN/]],
    );
    expectRule(
      nameRules.secretsManagerArn,
      [`arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rds!db-1-AbCdEf`],
      [
        [
          `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:`,
          /not a Secrets/,
        ],
      ],
    );
    expectRule(
      nameRules.secretsManagerName,
      ['mlflow/demo/database'],
      [['mlflow demo', /only contain/]],
    );
    expectRule(
      nameRules.vpcId,
      ['vpc-0123abcd', 'vpc-0123456789abcdef0'],
      [['vpc-xyz12345', /not a VPC id/]],
    );
  });
});

describe('nameRules for values of the deployment', () => {
  it('artifactPrefix is a relative key prefix without dot segments', () => {
    expectRule(
      nameRules.artifactPrefix,
      ['artifacts', 'teams/ml/artifacts', 'a..b', '...'],
      [
        ['/artifacts', /slash/],
        ['artifacts/', /slash/],
        ['a//b', /empty segment/],
        ['a/../b', /\. or \.\. segments/],
        ['..', /\. or \.\. segments/],
        ['arti facts', /only contain/],
        ['', /minimum is 1/],
      ],
    );
  });

  it('Kubernetes quantities, label values, env names and nginx sizes', () => {
    expectRule(
      nameRules.kubernetesQuantity,
      ['250m', '1', '0.5', '512Mi', '2Gi'],
      [
        ['2 Gi', /not a Kubernetes quantity/],
        ['-1', /not a Kubernetes quantity/],
        ['2gb', /not a Kubernetes quantity/],
      ],
    );
    expectRule(
      nameRules.labelValue,
      ['ml-platform', 'A.b_c'],
      [
        ['-ml', /label value/],
        ['a'.repeat(64), /maximum is 63/],
      ],
    );
    expectRule(
      nameRules.envVarName,
      ['MLFLOW_LOGGING_LEVEL', '_X1'],
      [
        ['1ABC', /environment variable/],
        ['A-B', /environment variable/],
      ],
    );
    expectRule(
      nameRules.nginxSize,
      ['500m', '5g', '1024'],
      [['5 GB', /nginx/]],
    );
  });

  it('RDS class, engine version, subnet group and cluster names', () => {
    expectRule(
      nameRules.rdsInstanceClass,
      ['db.t4g.small', 'db.m7g.large'],
      [['t4g.small', /instance class/]],
    );
    expectRule(
      nameRules.postgresEngineVersion,
      ['17', '17.4'],
      [['17.x', /version number/]],
    );
    expectRule(
      nameRules.dbSubnetGroupName,
      ['private db subnets'],
      [['subnets;drop', /only contain/]],
    );
    expectRule(
      nameRules.clusterName,
      ['local', 'eks-prod.eu'],
      [['-local', /cluster name/]],
    );
  });
});
