import { createRule } from './nameRule';

export const rdsInstanceIdentifier = createRule({
  what: 'RDS instance identifier',
  accepted:
    '1 to 63 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen',
  pattern: '^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,62}$',
  minLength: 1,
  maxLength: 63,
  problems: v => [
    !/^[a-z]/.test(v) && 'it must start with a lowercase letter',
    /[^a-z0-9-]/.test(v) &&
      'it may only contain lowercase letters, digits and hyphens',
    v.includes('--') && 'it must not contain two consecutive hyphens',
    v.endsWith('-') && 'it must not end with a hyphen',
  ],
  mismatch: 'it is not a valid RDS instance identifier',
});

export const rdsInstanceClass = createRule({
  what: 'RDS instance class',
  accepted: 'an RDS instance class such as db.t4g.small or db.m7g.large',
  pattern: '^db\\.[a-z0-9]+\\.[a-z0-9]+$',
  minLength: 5,
  maxLength: 40,
  mismatch: 'it is not an RDS instance class (db.<family>.<size>)',
});

export const dbSubnetGroupName = createRule({
  what: 'DB subnet group name',
  accepted: '1 to 255 letters, digits, spaces, dots, underscores and hyphens',
  pattern: '^[a-zA-Z0-9 ._-]{1,255}$',
  minLength: 1,
  maxLength: 255,
  mismatch:
    'it may only contain letters, digits, spaces, dots, underscores and hyphens',
});

const S3_RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const S3_RESERVED_SUFFIXES = [
  '-s3alias',
  '--ol-s3',
  '.mrap',
  '--x-s3',
  '--table-s3',
];

export const s3BucketName = createRule({
  what: 'S3 bucket name',
  accepted:
    '3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, not formatted as an IP address, without the reserved prefixes xn--, sthree-, amzn-s3-demo- and suffixes -s3alias, --ol-s3, .mrap, --x-s3, --table-s3',
  pattern:
    '^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(?:-s3alias|--ol-s3|\\.mrap|--x-s3|--table-s3)$)(?!\\d+\\.\\d+\\.\\d+\\.\\d+$)(?!.*\\.\\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
  minLength: 3,
  maxLength: 63,
  problems: v => {
    const prefix = S3_RESERVED_PREFIXES.find(p => v.startsWith(p));
    const suffix = S3_RESERVED_SUFFIXES.find(s => v.endsWith(s));
    return [
      /[^a-z0-9.-]/.test(v) &&
        'it may only contain lowercase letters, digits, dots and hyphens',
      !/^[a-z0-9]/.test(v) && 'it must start with a letter or digit',
      !/[a-z0-9]$/.test(v) && 'it must end with a letter or digit',
      v.includes('..') && 'it must not contain two adjacent dots',
      /^\d+\.\d+\.\d+\.\d+$/.test(v) &&
        'it must not be formatted as an IP address',
      prefix !== undefined && `the prefix ${prefix} is reserved by S3`,
      suffix !== undefined && `the suffix ${suffix} is reserved by S3`,
    ];
  },
  mismatch: 'it is not a valid S3 bucket name',
});

export const iamRoleName = createRule({
  what: 'IAM role name',
  accepted: '1 to 64 letters, digits and the characters + = , . @ _ -',
  pattern: '^[\\w+=,.@-]{1,64}$',
  minLength: 1,
  maxLength: 64,
  mismatch: 'it may only contain letters, digits and + = , . @ _ -',
});

export const awsRegion = createRule({
  what: 'AWS region',
  accepted: 'an AWS region code such as eu-west-1 or us-east-1',
  pattern: '^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d{1,2}$',
  minLength: 9,
  maxLength: 25,
  mismatch: 'it is not an AWS region code',
});

export const securityGroupId = createRule({
  what: 'security group id',
  accepted:
    'an EC2 security group id: sg- followed by 8 or 17 hexadecimal digits',
  pattern: '^sg-([0-9a-f]{8}|[0-9a-f]{17})$',
  minLength: 11,
  maxLength: 20,
  mismatch: 'it is not a security group id',
});

export const vpcId = createRule({
  what: 'VPC id',
  accepted: 'a VPC id: vpc- followed by 8 to 17 hexadecimal digits',
  pattern: '^vpc-[0-9a-f]{8,17}$',
  minLength: 12,
  maxLength: 21,
  mismatch: 'it is not a VPC id',
});

export const secretsManagerName = createRule({
  what: 'Secrets Manager secret name',
  accepted: '1 to 512 letters, digits and the characters / _ + = . @ -',
  pattern: '^[\\w/+=.@-]{1,512}$',
  minLength: 1,
  maxLength: 512,
  mismatch: 'it may only contain letters, digits and / _ + = . @ -',
});
