import { DBInstance } from '@aws-sdk/client-rds';
import { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { SecretsApi } from '../service/healthCredentials';
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
  /**
   * Basic-auth users (name to password), like MLflow's basic-auth app: when set, every path but
   * `/health` answers 401 without one of them.
   */
  users?: Record<string, string>;
  /** Users that may read but get 403 on the store read, like a user with NO_PERMISSIONS. */
  forbiddenUsers?: string[];
};

/** The user of a basic `Authorization` header, when its password matches. */
function basicUser(
  header: string | undefined,
  users: Record<string, string>,
): string | undefined {
  const match = /^Basic (.+)$/.exec(header ?? '');
  if (!match) {
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return colon > 0 && users[user] === password ? user : undefined;
}

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
  const requests: Array<{
    method: string;
    path: string;
    host: string;
    /** The `Authorization` header as received, for tests that prove where credentials went. */
    authorization?: string;
  }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      host: req.headers.host ?? '',
      authorization: req.headers.authorization,
    });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const answer = () => {
      inFlight--;
      const user = state.users
        ? basicUser(req.headers.authorization, state.users)
        : undefined;
      if (state.redirectTo) {
        res.writeHead(302, { location: state.redirectTo }).end();
      } else if (req.url === '/health') {
        res.writeHead(state.healthStatus).end('OK');
      } else if (state.users && !user) {
        res
          .writeHead(401, { 'www-authenticate': 'Basic realm="mlflow"' })
          .end('You are not authenticated.');
      } else if (
        req.url === '/api/2.0/mlflow/experiments/search' &&
        user &&
        state.forbiddenUsers?.includes(user)
      ) {
        res.writeHead(403).end('Permission denied');
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

/**
 * Secrets of a fake cluster called `local`, by `namespace/name`, with `data` in plain text (stored
 * base64 like the API); others answer 404, and `refused` ones 403 like a missing RBAC grant.
 */
export function fakeSecrets(
  secrets: Record<string, Record<string, string>>,
  options: { refused?: string[]; calls?: string[] } = {},
): (cluster: string) => SecretsApi {
  const api = {
    readNamespacedSecret: async ({
      name,
      namespace,
    }: {
      name: string;
      namespace: string;
    }) => {
      const key = `${namespace}/${name}`;
      options.calls?.push(key);
      if (options.refused?.includes(key)) {
        throw Object.assign(new Error(`secrets "${name}" is forbidden`), {
          code: 403,
        });
      }
      const data = secrets[key];
      if (!data) {
        throw Object.assign(new Error(`secrets "${name}" not found`), {
          code: 404,
        });
      }
      return {
        metadata: { name, namespace },
        data: Object.fromEntries(
          Object.entries(data).map(([k, v]) => [
            k,
            Buffer.from(v).toString('base64'),
          ]),
        ),
      };
    },
  } as SecretsApi;
  return cluster => {
    if (cluster !== 'local') {
      throw new InputError(`no such cluster ${cluster}`);
    }
    return api;
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
