import { createRule } from './nameRule';

const LOWER_DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_PATTERN = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';

/** A Kubernetes object name of the RFC 1123 label kind (Service, Secret, ServiceAccount …). */
export const kubernetesName = createRule({
  what: 'Kubernetes object name',
  accepted:
    '1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (RFC 1123 label)',
  pattern: `^${DNS_LABEL_PATTERN}$`,
  minLength: 1,
  maxLength: 63,
  mismatch:
    'it must consist of lowercase letters, digits and hyphens, and start and end with a letter or digit',
});

export const kubernetesNamespace = createRule({
  what: 'Kubernetes namespace',
  accepted:
    '1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, not starting with kube-',
  pattern: `^(?!kube-)${DNS_LABEL_PATTERN}$`,
  minLength: 1,
  maxLength: 63,
  problems: v => [
    !LOWER_DNS_LABEL.test(v) &&
      'it must consist of lowercase letters, digits and hyphens, and start and end with a letter or digit',
    v.startsWith('kube-') &&
      'the prefix kube- is reserved for Kubernetes system namespaces',
  ],
  mismatch: 'it is not a valid namespace',
});

/** A cluster as named under kubernetes.clusterLocatorMethods. */
export const clusterName = createRule({
  what: 'cluster name',
  accepted:
    '1 to 63 letters, digits, dots, underscores and hyphens, starting with a letter or digit',
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$',
  minLength: 1,
  maxLength: 63,
  mismatch: 'it is not a valid cluster name',
});

/**
 * The Ingress host: a DNS name, never an IP address (Kubernetes refuses IP hosts, and a metadata
 * address such as 169.254.169.254 must never be routed to).
 */
export const hostname = createRule({
  what: 'hostname',
  accepted:
    'a DNS name of up to 253 characters, not an IP address: dot-separated labels of lowercase letters, digits and hyphens, each starting and ending with a letter or digit, the last one not all digits',
  pattern: `^(?!.*\\.[0-9]+$)${DNS_LABEL_PATTERN}(\\.${DNS_LABEL_PATTERN})+$`,
  minLength: 3,
  maxLength: 253,
  problems: v => [
    (/^\[.*\]$/.test(v) || /^[0-9a-f:]+$/i.test(v)) &&
      v.includes(':') &&
      'it is an IP address; a DNS name is needed',
    /^[0-9.]+$/.test(v) && 'it is an IP address; a DNS name is needed',
    !v.includes('.') &&
      'it must have at least two labels, e.g. mlflow.example.com',
    v
      .split('.')
      .some(label => label.length > 63 || !LOWER_DNS_LABEL.test(label)) &&
      'each dot-separated label must be 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit',
    /\.[0-9]+$/.test(v) &&
      'its last label is all digits, which makes it read as an IP address',
  ],
  mismatch: 'it is not a DNS name',
});

export const containerImage = createRule({
  what: 'container image',
  accepted:
    'an image reference such as ghcr.io/org/mlflow:3.1.0 or registry/repo@sha256:<digest>, without spaces',
  pattern:
    '^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\\w][\\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$',
  minLength: 1,
  maxLength: 255,
  mismatch:
    'it is not a valid image reference (lowercase repository path, optional :tag and @sha256 digest)',
});

/** A resource quantity (CPU or memory) of a container. */
export const kubernetesQuantity = createRule({
  what: 'Kubernetes quantity',
  accepted:
    'a Kubernetes quantity such as 250m, 1, 0.5, 512Mi or 2Gi (suffixes m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)',
  pattern: '^\\d+(\\.\\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$',
  minLength: 1,
  maxLength: 32,
  mismatch: 'it is not a Kubernetes quantity',
});

/** A label value (e.g. the system an instance belongs to). */
export const labelValue = createRule({
  what: 'label value',
  accepted:
    'up to 63 letters, digits, -, _ and ., starting and ending with a letter or digit',
  pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$',
  minLength: 1,
  maxLength: 63,
  mismatch: 'it is not a valid Kubernetes label value',
});

/** The name of an environment variable of the tracking server. */
export const envVarName = createRule({
  what: 'environment variable name',
  accepted:
    'letters, digits and underscores, not starting with a digit, e.g. MLFLOW_LOGGING_LEVEL',
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  minLength: 1,
  maxLength: 256,
  mismatch: 'it is not an environment variable name',
});

/** An nginx size, as the Ingress proxy-body-size annotation takes it. */
export const nginxSize = createRule({
  what: 'size in nginx syntax',
  accepted: 'a size in nginx syntax such as 500m or 5g',
  pattern: '^\\d+[kmgKMG]?$',
  minLength: 1,
  maxLength: 16,
  mismatch: 'it is not a size in nginx syntax',
});
