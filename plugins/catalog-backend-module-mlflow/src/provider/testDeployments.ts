import { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import {
  signMlflowDeployment,
  verifyMlflowDeployment,
} from '@stateful-mlflow/plugin-mlflow-node';
import {
  adoptedMlflowInstance,
  MlflowInstance,
  verifiedMlflowInstance,
} from './readMlflowInstance';

/** The signing key of the tests (mlflow.identity.signingKey). */
export const TEST_SIGNING_KEY = 'test-signing-key-0123456789abcdefghij';

/** A Deployment as the deploy action writes it (labels and annotations of mlflow-common). */
export function managedDeployment(
  name: string,
  overrides: {
    namespace?: string;
    annotations?: Record<string, string>;
    createdAt?: string;
  } = {},
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: overrides.namespace ?? `mlflow-${name}`,
      creationTimestamp: new Date(
        overrides.createdAt ?? '2026-01-01T00:00:00Z',
      ),
      labels: {
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': name,
        'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow',
        'app.kubernetes.io/part-of': 'ml-platform',
        'backstage.io/kubernetes-id': name,
      },
      annotations: {
        'mlflow.org/tracking-url': `http://${name}.mlflow.localhost`,
        'mlflow.org/aws-region': 'eu-west-1',
        'mlflow.org/rds-instance-id': `${name}-db`,
        'mlflow.org/s3-artifact-root': `s3://${name}-artifacts/mlflow`,
        'mlflow.org/kubernetes-cluster': 'local',
        'mlflow.org/owner': 'group:default/ml-team',
        'mlflow.org/system': 'ml-platform',
        'mlflow.org/description': `Tracking server ${name}`,
        'mlflow.org/environment': 'prod',
        'mlflow.org/database-name': 'mlflow',
        ...overrides.annotations,
      },
    },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/instance': name } },
      template: {
        spec: {
          containers: [
            {
              name: 'mlflow',
              image: 'ghcr.io/mlflow/mlflow:v3.1.0',
              command: ['mlflow', 'server'],
            },
          ],
        },
      },
    },
  };
}

/** A Deployment like a community Helm chart's: our name label, none of our annotations. */
export function helmDeployment(
  release: string,
  options: {
    namespace?: string;
    args?: string[];
    env?: Array<{ name: string; value?: string; secret?: string }>;
  } = {},
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `${release}-mlflow`,
      namespace: options.namespace ?? 'ml',
      creationTimestamp: new Date('2025-06-01T00:00:00Z'),
      labels: {
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': 'mlflow-1.0.0',
      },
      annotations: { 'meta.helm.sh/release-name': release },
    },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/instance': release } },
      template: {
        spec: {
          containers: [
            {
              name: 'mlflow',
              image: 'burakince/mlflow:3.1.0',
              args: options.args ?? [],
              env: (options.env ?? []).map(e =>
                e.secret
                  ? {
                      name: e.name,
                      valueFrom: {
                        secretKeyRef: { name: e.secret, key: 'uri' },
                      },
                    }
                  : { name: e.name, value: e.value },
              ),
            },
          ],
        },
      },
    },
  };
}

export function mlflowIngress(
  release: string,
  namespace: string,
  host: string,
  tls = false,
): V1Ingress {
  return {
    metadata: {
      name: release,
      namespace,
      labels: {
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': release,
      },
    },
    spec: {
      rules: [{ host }],
      ...(tls ? { tls: [{ hosts: [host], secretName: 'tls' }] } : {}),
    },
  };
}

/** A managed Deployment signed for `cluster` with the test key, as the deploy action writes it. */
export function signedDeployment(
  name: string,
  overrides: Parameters<typeof managedDeployment>[1] & {
    cluster?: string;
  } = {},
): V1Deployment {
  return signMlflowDeployment(
    managedDeployment(name, overrides),
    overrides.cluster ?? 'local',
    TEST_SIGNING_KEY,
  );
}

/** The verified instance of a signed Deployment; throws when its signature does not verify. */
export function verifiedInstance(
  deployment: V1Deployment,
  cluster = 'local',
): MlflowInstance {
  const identity = verifyMlflowDeployment(deployment, cluster, [
    TEST_SIGNING_KEY,
  ]);
  if (!identity) {
    throw new Error('the test Deployment is not signed for this cluster');
  }
  return verifiedMlflowInstance(deployment, identity, 'group:default/unknown');
}

/** The adopted instance of a Deployment, owned by the platform team, in `mlflow-adopted`. */
export function adoptedInstance(
  deployment: V1Deployment,
  ingresses: V1Ingress[] = [],
  cluster = 'local',
): MlflowInstance {
  return adoptedMlflowInstance(cluster, deployment, ingresses, {
    owner: 'group:default/platform-team',
    entityNamespace: 'mlflow-adopted',
  });
}
