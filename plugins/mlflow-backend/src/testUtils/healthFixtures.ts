import { DBInstance } from '@aws-sdk/client-rds';
import { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { KubernetesApis } from '../service/kubernetesWorkloads';
import { RefreshLimiter } from '../service/RefreshLimiter';

/**
 * A Component carrying every MLflow annotation, as the MLflow entity provider emits it for a
 * Deployment the deploy action wrote (trusted); `annotations` overrides or removes (undefined) keys.
 */
export function mlflowEntity(
  name: string,
  annotations: Record<string, string | undefined> = {},
  lifecycle = 'experimental',
): Entity {
  const all: Record<string, string | undefined> = {
    'mlflow.org/tracking-url': `http://${name}.mlflow.localhost`,
    'mlflow.org/aws-region': 'eu-west-1',
    'mlflow.org/rds-instance-id': `${name}-db`,
    'mlflow.org/s3-artifact-root': `s3://${name}-artifacts/mlflow`,
    'mlflow.org/kubernetes-cluster': 'local',
    'backstage.io/kubernetes-id': name,
    'backstage.io/kubernetes-namespace': name,
    'backstage.io/managed-by-origin-location': `mlflow-cluster:local/${name}/${name}`,
    'mlflow.org/trusted': 'true',
    ...annotations,
  };
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: Object.fromEntries(
        Object.entries(all).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      ),
    },
    spec: { type: 'service', lifecycle, owner: 'team-ml' },
  };
}

/** The identity tags the provisioning actions put on an instance's AWS resources. */
export function identityTags(
  instance: string,
  owner = 'group:default/team-ml',
): Array<{ Key: string; Value: string }> {
  return [
    { Key: 'stateful-mlflow/instance', Value: instance },
    { Key: 'owner', Value: owner },
  ];
}

/**
 * What DescribeDBInstances returns for a compliant instance `<name>-db`, tagged for the instance
 * `<name>`; `overrides` change single fields.
 */
export function rdsInstance(
  id: string,
  overrides: Partial<DBInstance> = {},
): DBInstance {
  return {
    DBInstanceIdentifier: id,
    DBInstanceStatus: 'available',
    Engine: 'postgres',
    EngineVersion: '16.4',
    DBInstanceClass: 'db.t4g.medium',
    AllocatedStorage: 20,
    Endpoint: {
      Address: `${id}.abc123.eu-west-1.rds.amazonaws.com`,
      Port: 5432,
    },
    MultiAZ: true,
    StorageEncrypted: true,
    PubliclyAccessible: false,
    BackupRetentionPeriod: 7,
    DeletionProtection: true,
    MasterUsername: 'mlflow_admin',
    MasterUserSecret: {
      SecretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-${id}-master`,
      SecretStatus: 'active',
    },
    TagList: identityTags(id.replace(/-db$/, '')),
    ...overrides,
  };
}

/** A Deployment as the deploy action writes it, with the given replica counts. */
export function mlflowDeployment(
  name: string,
  replicas: {
    desired: number;
    ready: number;
    updated?: number;
    unavailable?: number;
  },
): V1Deployment {
  return {
    metadata: {
      name,
      namespace: name,
      labels: {
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': name,
      },
    },
    spec: {
      replicas: replicas.desired,
      selector: { matchLabels: { 'app.kubernetes.io/instance': name } },
      template: {
        spec: {
          containers: [
            { name: 'mlflow', image: 'ghcr.io/mlflow/mlflow:v3.1.0' },
          ],
        },
      },
    },
    status: {
      replicas: replicas.desired,
      readyReplicas: replicas.ready,
      availableReplicas: replicas.ready,
      updatedReplicas: replicas.updated ?? replicas.desired,
      unavailableReplicas: replicas.unavailable,
      conditions: [
        {
          type: 'Available',
          status: replicas.ready > 0 ? 'True' : 'False',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
        },
      ],
    },
  };
}

/** Calls made to a fake cluster, by list call. */
export type FakeKubernetesCalls = Record<
  | 'listNamespacedDeployment'
  | 'listDeploymentForAllNamespaces'
  | 'listNamespacedIngress'
  | 'listIngressForAllNamespaces',
  number
>;

/**
 * Kubernetes APIs of one fake cluster called `local`, answering from `state` (objects by
 * namespace); `refuseClusterWide` answers cluster-wide lists with 403 like a namespaced role.
 */
export function fakeKubernetes(state: {
  deployments: Record<string, V1Deployment[]>;
  ingresses?: Record<string, V1Ingress[]>;
  refuseClusterWide?: boolean;
  /** How many of the first namespaced Deployment lists never answer. */
  hangingCalls?: number;
  calls?: FakeKubernetesCalls;
}): (cluster: string) => KubernetesApis {
  let hanging = state.hangingCalls ?? 0;
  const count = (name: keyof FakeKubernetesCalls) => {
    if (state.calls) state.calls[name]++;
  };
  const clusterWide = <T>(byNamespace: Record<string, T[]> = {}) => {
    if (state.refuseClusterWide) {
      throw Object.assign(new Error('forbidden: cluster-wide list'), {
        code: 403,
      });
    }
    return { items: Object.values(byNamespace).flat() };
  };
  const apis = {
    apps: {
      listNamespacedDeployment: async ({
        namespace,
      }: {
        namespace: string;
      }) => {
        count('listNamespacedDeployment');
        if (hanging > 0) {
          hanging--;
          await new Promise(() => {});
        }
        return { items: state.deployments[namespace] ?? [] };
      },
      listDeploymentForAllNamespaces: async () => {
        count('listDeploymentForAllNamespaces');
        return clusterWide(state.deployments);
      },
    },
    networking: {
      listNamespacedIngress: async ({ namespace }: { namespace: string }) => {
        count('listNamespacedIngress');
        return { items: state.ingresses?.[namespace] ?? [] };
      },
      listIngressForAllNamespaces: async () => {
        count('listIngressForAllNamespaces');
        return clusterWide(state.ingresses);
      },
    },
  } as KubernetesApis;
  return cluster => {
    if (cluster !== 'local') {
      throw new InputError(
        `Invalid mlflow.org/kubernetes-cluster: received ${JSON.stringify(
          cluster,
        )}, but no such cluster is configured. Accepted: local.`,
      );
    }
    return apis;
  };
}

/** How the fake MLflow server answers; change it between requests. */
export type FakeMlflowBehaviour = {
  healthStatus: number;
  searchStatus: number;
  version: string;
  /** Milliseconds before answering; Infinity never answers. */
  delayMs: number;
  /** Answer every request with a 302 to this URL. */
  redirectTo?: string;
};

/** A local HTTP server speaking the three MLflow endpoints the check calls. */
export async function startFakeMlflowServer(
  behaviour: Partial<FakeMlflowBehaviour> = {},
) {
  const state: FakeMlflowBehaviour = {
    healthStatus: 200,
    searchStatus: 200,
    version: '3.1.0',
    delayMs: 0,
    ...behaviour,
  };
  const requests: Array<{ method: string; path: string; host: string }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      host: req.headers.host ?? '',
    });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const answer = () => {
      inFlight--;
      if (state.redirectTo) {
        res.writeHead(302, { location: state.redirectTo }).end();
      } else if (req.url === '/health') {
        res.writeHead(state.healthStatus).end('OK');
      } else if (req.url === '/version') {
        res.writeHead(200).end(state.version);
      } else if (req.url === '/api/2.0/mlflow/experiments/search') {
        res
          .writeHead(state.searchStatus, { 'content-type': 'application/json' })
          .end(JSON.stringify({ experiments: [] }));
      } else {
        res.writeHead(404).end();
      }
    };
    req.resume();
    if (state.delayMs === Infinity) {
      req.on('close', () => inFlight--);
      return;
    }
    setTimeout(answer, state.delayMs);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    state,
    requests,
    port,
    url: `http://127.0.0.1:${port}`,
    maxInFlight: () => maxInFlight,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The refresh limit in memory, for unit tests (production keeps it in the database). */
export class InMemoryRefreshLimiter implements RefreshLimiter {
  private readonly until = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  async claim(entityRefs: string[]): Promise<Set<string>> {
    const now = Date.now();
    const claimed = new Set<string>();
    for (const ref of entityRefs) {
      if ((this.until.get(ref) ?? 0) <= now) {
        this.until.set(ref, now + this.intervalMs);
        claimed.add(ref);
      }
    }
    return claimed;
  }
}
