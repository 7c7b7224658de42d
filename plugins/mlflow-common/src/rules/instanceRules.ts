import { createRule } from './nameRule';

/** Name of an MLflow instance: the catalog Component, the Kubernetes objects and AWS names derive from it. */
export const instanceName = createRule({
  what: 'instance name',
  accepted:
    '2 to 40 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit',
  pattern: '^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,39}$',
  minLength: 2,
  maxLength: 40,
  problems: v => [
    !/^[a-z]/.test(v) && 'it must start with a lowercase letter',
    /[^a-z0-9-]/.test(v) &&
      'it may only contain lowercase letters, digits and hyphens',
    v.includes('--') && 'it must not contain two hyphens in a row',
    v.endsWith('-') && 'it must not end with a hyphen',
  ],
  mismatch: 'it is not a valid instance name',
});

/** Key prefix of the artifacts in the bucket: it ends up in S3 keys and in IAM resource ARNs. */
export const artifactPrefix = createRule({
  what: 'artifact key prefix',
  accepted:
    'one or more /-separated segments of letters, digits, dots, hyphens and underscores, without a leading or trailing slash and without . or .. segments, e.g. artifacts or teams/ml/artifacts',
  pattern:
    '^(?!\\.{1,2}(?:/|$))(?!.*/\\.{1,2}(?:/|$))[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$',
  minLength: 1,
  maxLength: 512,
  problems: v => [
    (v.startsWith('/') || v.endsWith('/')) &&
      'it must not start or end with a slash',
    v.includes('//') && 'it must not contain an empty segment (//)',
    v.split('/').some(s => s === '.' || s === '..') &&
      'it must not contain . or .. segments',
    /[^A-Za-z0-9_./-]/.test(v) &&
      'it may only contain letters, digits, dots, hyphens, underscores and slashes',
  ],
  mismatch: 'it is not a valid key prefix',
});
