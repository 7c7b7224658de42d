import { KubeConfig } from '@kubernetes/client-node';
import { request, RequestOptions } from 'node:https';

type ApiResource = {
  name: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
};

/** One resource type's list, as the API server answered it. */
export type ListedObjects = {
  /** e.g. `apps/v1 deployments` */
  resource: string;
  /** The list's JSON as received. */
  body: string;
  /** `namespace/name` (or `name`) of each item. */
  items: string[];
};

async function getRaw(kubeConfig: KubeConfig, path: string): Promise<string> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) {
    throw new Error('The kubeconfig has no current cluster');
  }
  const options: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), options, res => {
      const chunks: Buffer[] = [];
      res.on('data', chunk => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${path} answered ${res.statusCode}: ${body}`));
          return;
        }
        resolve(body);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson<T>(kubeConfig: KubeConfig, path: string): Promise<T> {
  return JSON.parse(await getRaw(kubeConfig, path)) as T;
}

/** Every group version the API server serves (the preferred one of each group) and its path. */
async function groupVersions(kubeConfig: KubeConfig): Promise<string[]> {
  const core = await getJson<{ versions: string[] }>(kubeConfig, '/api');
  const groups = await getJson<{
    groups: Array<{ preferredVersion: { groupVersion: string } }>;
  }>(kubeConfig, '/apis');
  return [
    ...core.versions.map(v => `/api/${v}`),
    ...groups.groups.map(g => `/apis/${g.preferredVersion.groupVersion}`),
  ];
}

/**
 * Lists every object of every listable resource type the API server serves, in every namespace
 * and cluster-wide (events included), except the types in `except` (e.g. `secrets`).
 */
export async function listEveryObject(
  kubeConfig: KubeConfig,
  except: string[],
): Promise<ListedObjects[]> {
  const lists: ListedObjects[] = [];
  for (const base of await groupVersions(kubeConfig)) {
    const { resources } = await getJson<{ resources: ApiResource[] }>(
      kubeConfig,
      base,
    );
    const listable = resources.filter(
      r =>
        !r.name.includes('/') &&
        r.verbs.includes('list') &&
        !except.includes(r.name),
    );
    for (const resource of listable) {
      const body = await getRaw(kubeConfig, `${base}/${resource.name}`);
      const parsed = JSON.parse(body) as {
        items?: Array<{ metadata?: { name?: string; namespace?: string } }>;
      };
      lists.push({
        resource: `${base.replace(/^\/apis?\//, '')} ${resource.name}`,
        body,
        items: (parsed.items ?? []).map(i =>
          [i.metadata?.namespace, i.metadata?.name].filter(Boolean).join('/'),
        ),
      });
    }
  }
  return lists;
}
