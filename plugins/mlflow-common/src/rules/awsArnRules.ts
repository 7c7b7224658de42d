import { createRule } from './nameRule';

// Every partition: aws, aws-cn, aws-us-gov, aws-iso-b …
const ARN_PARTITION = 'arn:aws(?:-[a-z]+)*';
const DNS_NAME =
  '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)+';

/** A KMS key as S3 and RDS accept it: key id, key ARN, alias name or alias ARN. */
export const kmsKeyId = createRule({
  what: 'KMS key',
  accepted:
    'a KMS key id, multi-Region key id (mrk-…), key ARN, alias name (alias/…) or alias ARN',
  pattern: `^(?:${ARN_PARTITION}:kms:[a-z0-9-]+:\\d{12}:(?:key|alias)/[\\w/+=,.@-]+|alias/[\\w/+=,.@-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`,
  minLength: 1,
  maxLength: 2048,
  mismatch: 'it is not a KMS key id, key ARN or alias',
});

/** A KMS key ARN: what an IAM policy names as its resource. */
export const kmsKeyArn = createRule({
  what: 'KMS key ARN',
  accepted: 'a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id>',
  pattern: `^${ARN_PARTITION}:kms:[a-z0-9-]+:\\d{12}:key/[a-zA-Z0-9-]+$`,
  minLength: 1,
  maxLength: 2048,
  problems: v => [
    /:alias\//.test(v) &&
      'an alias cannot be granted in an IAM policy; give the key ARN',
  ],
  mismatch: 'it is not a KMS key ARN',
});

/** The IAM OIDC provider of a cluster, trusted for IRSA; its path becomes the condition key. */
export const oidcProviderArn = createRule({
  what: 'IAM OIDC provider ARN',
  accepted:
    'arn:aws:iam::<account>:oidc-provider/<issuer host and path>, e.g. arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE, without empty path segments or a trailing slash',
  pattern: `^${ARN_PARTITION}:iam::\\d{12}:oidc-provider/${DNS_NAME}(?:/[A-Za-z0-9_.~-]+)*$`,
  minLength: 1,
  maxLength: 2048,
  problems: v => [
    !/^arn:aws[^:]*:iam::\d{12}:oidc-provider\//.test(v) &&
      'it must start with arn:aws:iam::<12-digit account>:oidc-provider/',
    v.endsWith('/') && 'the issuer must not end with a slash',
    /oidc-provider\/.*\/\//.test(v) &&
      'the issuer must not contain an empty path segment (//)',
  ],
  mismatch:
    'the issuer must be a lowercase DNS host followed by /-separated path segments',
});

export const iamRoleArn = createRule({
  what: 'IAM role ARN',
  accepted: 'an IAM role ARN, arn:aws:iam::<account>:role/<path and name>',
  pattern: `^${ARN_PARTITION}:iam::\\d{12}:role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`,
  minLength: 1,
  maxLength: 2048,
  mismatch: 'it is not an IAM role ARN',
});

/** A managed policy, e.g. a permissions boundary; AWS-managed policies have the account `aws`. */
export const iamPolicyArn = createRule({
  what: 'IAM policy ARN',
  accepted: 'an IAM policy ARN, arn:aws:iam::<account or aws>:policy/<name>',
  pattern: `^${ARN_PARTITION}:iam::(?:\\d{12}|aws):policy/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,128}$`,
  minLength: 1,
  maxLength: 2048,
  mismatch: 'it is not an IAM policy ARN',
});

export const secretsManagerArn = createRule({
  what: 'Secrets Manager secret ARN',
  accepted:
    'a Secrets Manager secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>',
  pattern: `^${ARN_PARTITION}:secretsmanager:[a-z0-9-]+:\\d{12}:secret:\\S+$`,
  minLength: 1,
  maxLength: 2048,
  mismatch: 'it is not a Secrets Manager secret ARN',
});
