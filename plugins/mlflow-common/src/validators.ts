import { InputError } from '@backstage/errors';

/**
 * One naming rule of a provider (AWS, PostgreSQL, Kubernetes). The same rule validates action inputs,
 * API parameters and, through `pattern`/`minLength`/`maxLength`, the template's form fields.
 */
export type NameRule = {
  /** What is being named, for messages: "RDS instance identifier". */
  what: string;
  /** The accepted values in words, shown after every error and as form help text. */
  accepted: string;
  /** A JSON-schema `pattern` mirroring the rule as far as a regular expression can. */
  pattern: string;
  minLength: number;
  maxLength: number;
  /** The first problem with the value, or undefined when it is accepted. */
  check(value: string): string | undefined;
};

const LOWER_DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function lengthProblem(value: string, min: number, max: number) {
  if (value.length < min) {
    return `it is ${value.length} characters long, the minimum is ${min}`;
  }
  if (value.length > max) {
    return `it is ${value.length} characters long, the maximum is ${max}`;
  }
  return undefined;
}

function firstProblem(
  ...problems: Array<string | false | undefined>
): string | undefined {
  return problems.find((p): p is string => typeof p === 'string');
}

/** Name of an MLflow instance: the catalog Component, the Kubernetes objects and AWS names derive from it. */
const instanceName: NameRule = {
  what: 'instance name',
  accepted:
    '2 to 40 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit',
  pattern: '^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,39}$',
  minLength: 2,
  maxLength: 40,
  check: v =>
    firstProblem(
      lengthProblem(v, 2, 40),
      !/^[a-z]/.test(v) && 'it must start with a lowercase letter',
      /[^a-z0-9-]/.test(v) &&
        'it may only contain lowercase letters, digits and hyphens',
      v.includes('--') && 'it must not contain two hyphens in a row',
      v.endsWith('-') && 'it must not end with a hyphen',
    ),
};

const rdsInstanceIdentifier: NameRule = {
  what: 'RDS instance identifier',
  accepted:
    '1 to 63 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen',
  pattern: '^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,62}$',
  minLength: 1,
  maxLength: 63,
  check: v =>
    firstProblem(
      lengthProblem(v, 1, 63),
      !/^[a-z]/.test(v) && 'it must start with a lowercase letter',
      /[^a-z0-9-]/.test(v) &&
        'it may only contain lowercase letters, digits and hyphens',
      v.includes('--') && 'it must not contain two consecutive hyphens',
      v.endsWith('-') && 'it must not end with a hyphen',
    ),
};

const POSTGRES_RESERVED_DATABASES = [
  'postgres',
  'template0',
  'template1',
  'rdsadmin',
];
const POSTGRES_RESERVED_ROLES = [
  'postgres',
  'rdsadmin',
  'public',
  'none',
  'current_user',
  'session_user',
  'current_role',
];

function postgresIdentifier(what: string, reserved: string[]): NameRule {
  return {
    what,
    accepted: `1 to 63 lowercase letters, digits and underscores, starting with a letter, not starting with pg_ or rds_, and not one of ${reserved.join(
      ', ',
    )}`,
    pattern: `^(?!pg_|rds_)(?!(?:${reserved.join('|')})$)[a-z][a-z0-9_]{0,62}$`,
    minLength: 1,
    maxLength: 63,
    check: v =>
      firstProblem(
        lengthProblem(v, 1, 63),
        !/^[a-z]/.test(v) && 'it must start with a lowercase letter',
        /[^a-z0-9_]/.test(v) &&
          'it may only contain lowercase letters, digits and underscores',
        /^(pg_|rds_)/.test(v) &&
          'the prefixes pg_ and rds_ are reserved by PostgreSQL and RDS',
        reserved.includes(v) && `"${v}" is reserved`,
      ),
  };
}

const S3_RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const S3_RESERVED_SUFFIXES = [
  '-s3alias',
  '--ol-s3',
  '.mrap',
  '--x-s3',
  '--table-s3',
];

const s3BucketName: NameRule = {
  what: 'S3 bucket name',
  accepted:
    '3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, not formatted as an IP address, without the reserved prefixes xn--, sthree-, amzn-s3-demo- and suffixes -s3alias, --ol-s3, .mrap, --x-s3, --table-s3',
  pattern:
    '^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(?:-s3alias|--ol-s3|\\.mrap|--x-s3|--table-s3)$)(?!\\d+\\.\\d+\\.\\d+\\.\\d+$)(?!.*\\.\\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
  minLength: 3,
  maxLength: 63,
  check: v =>
    firstProblem(
      lengthProblem(v, 3, 63),
      /[^a-z0-9.-]/.test(v) &&
        'it may only contain lowercase letters, digits, dots and hyphens',
      !/^[a-z0-9]/.test(v) && 'it must start with a letter or digit',
      !/[a-z0-9]$/.test(v) && 'it must end with a letter or digit',
      v.includes('..') && 'it must not contain two adjacent dots',
      /^\d+\.\d+\.\d+\.\d+$/.test(v) &&
        'it must not be formatted as an IP address',
      S3_RESERVED_PREFIXES.some(p => v.startsWith(p)) &&
        `the prefix ${S3_RESERVED_PREFIXES.find(p =>
          v.startsWith(p),
        )} is reserved by S3`,
      S3_RESERVED_SUFFIXES.some(s => v.endsWith(s)) &&
        `the suffix ${S3_RESERVED_SUFFIXES.find(s =>
          v.endsWith(s),
        )} is reserved by S3`,
    ),
};

function dns1123Label(
  what: string,
  extra?: (v: string) => string | undefined,
): NameRule {
  return {
    what,
    accepted:
      '1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (RFC 1123 label)',
    pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
    minLength: 1,
    maxLength: 63,
    check: v =>
      firstProblem(
        lengthProblem(v, 1, 63),
        !LOWER_DNS_LABEL.test(v) &&
          'it must consist of lowercase letters, digits and hyphens, and start and end with a letter or digit',
        extra?.(v),
      ),
  };
}

const kubernetesNamespace: NameRule = {
  ...dns1123Label('Kubernetes namespace', v =>
    v.startsWith('kube-')
      ? 'the prefix kube- is reserved for Kubernetes system namespaces'
      : undefined,
  ),
  pattern: '^(?!kube-)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
};

const hostname: NameRule = {
  what: 'hostname',
  accepted:
    'a DNS name of up to 253 characters: dot-separated labels of lowercase letters, digits and hyphens, each starting and ending with a letter or digit',
  pattern:
    '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$',
  minLength: 3,
  maxLength: 253,
  check: v =>
    firstProblem(
      lengthProblem(v, 3, 253),
      !v.includes('.') &&
        'it must have at least two labels, e.g. mlflow.example.com',
      v
        .split('.')
        .some(label => label.length > 63 || !LOWER_DNS_LABEL.test(label)) &&
        'each dot-separated label must be 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit',
    ),
};

const iamRoleName: NameRule = {
  what: 'IAM role name',
  accepted: '1 to 64 letters, digits and the characters + = , . @ _ -',
  pattern: '^[\\w+=,.@-]{1,64}$',
  minLength: 1,
  maxLength: 64,
  check: v =>
    firstProblem(
      lengthProblem(v, 1, 64),
      /[^\w+=,.@-]/.test(v) &&
        'it may only contain letters, digits and + = , . @ _ -',
    ),
};

const awsRegion: NameRule = {
  what: 'AWS region',
  accepted: 'an AWS region code such as eu-west-1 or us-east-1',
  pattern: '^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d{1,2}$',
  minLength: 9,
  maxLength: 25,
  check: v =>
    /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/.test(v)
      ? undefined
      : 'it is not an AWS region code',
};

const securityGroupId: NameRule = {
  what: 'security group id',
  accepted:
    'an EC2 security group id: sg- followed by 8 or 17 hexadecimal digits',
  pattern: '^sg-([0-9a-f]{8}|[0-9a-f]{17})$',
  minLength: 11,
  maxLength: 20,
  check: v =>
    /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/.test(v)
      ? undefined
      : 'it is not a security group id',
};

const containerImage: NameRule = {
  what: 'container image',
  accepted:
    'an image reference such as ghcr.io/org/mlflow:3.1.0 or registry/repo@sha256:<digest>, without spaces',
  pattern:
    '^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\\w][\\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$',
  minLength: 1,
  maxLength: 255,
  check: v =>
    new RegExp(containerImage.pattern).test(v)
      ? undefined
      : 'it is not a valid image reference (lowercase repository path, optional :tag and @sha256 digest)',
};

/** Every naming rule, by the kind of thing named. */
export const nameRules = {
  instanceName,
  rdsInstanceIdentifier,
  postgresDatabaseName: postgresIdentifier(
    'PostgreSQL database name',
    POSTGRES_RESERVED_DATABASES,
  ),
  postgresRoleName: postgresIdentifier(
    'PostgreSQL role name',
    POSTGRES_RESERVED_ROLES,
  ),
  s3BucketName,
  kubernetesName: dns1123Label('Kubernetes object name'),
  kubernetesNamespace,
  hostname,
  iamRoleName,
  awsRegion,
  securityGroupId,
  containerImage,
} satisfies Record<string, NameRule>;

/** Quotes a received value for an error message: JSON-escaped and cut, so it cannot forge log lines. */
export function describeReceived(value: unknown): string {
  if (typeof value !== 'string') {
    return value === undefined ? 'nothing' : `a ${typeof value}`;
  }
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}

/**
 * Checks `value` against `rule` and returns it; throws an InputError naming the field, the value
 * received and what is accepted.
 */
export function validateName(
  rule: NameRule,
  field: string,
  value: unknown,
): string {
  const problem =
    typeof value !== 'string' ? 'it must be a string' : rule.check(value);
  if (problem) {
    throw new InputError(
      `Invalid ${field} (${rule.what}): received ${describeReceived(
        value,
      )}, but ${problem}. Accepted: ${rule.accepted}.`,
    );
  }
  return value as string;
}
