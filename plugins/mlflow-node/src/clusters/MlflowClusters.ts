import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';

/**
 * One cluster of `kubernetes.clusterLocatorMethods` (type `config`), the fields the MLflow plugins use.
 *
 * @public
 */
export type MlflowClusterConfig = {
  name: string;
  url: string;
  serviceAccountToken?: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
};

/**
 * The Kubernetes clusters Backstage is configured with, read from the same
 * `kubernetes.clusterLocatorMethods` entries as the core Kubernetes plugin, so a platform team
 * declares each cluster once.
 *
 * @public
 */
export class MlflowClusters {
  static fromConfig(config: Config): MlflowClusters {
    const clusters: MlflowClusterConfig[] = [];
    const methods =
      config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
    for (const method of methods) {
      if (method.getString('type') !== 'config') {
        continue;
      }
      for (const cluster of method.getOptionalConfigArray('clusters') ?? []) {
        const authProvider =
          cluster.getOptionalString('authProvider') ?? 'serviceAccount';
        if (authProvider !== 'serviceAccount') {
          // Other providers need a user's token or cloud credentials the plugins don't hold.
          continue;
        }
        clusters.push({
          name: cluster.getString('name'),
          url: cluster.getString('url'),
          serviceAccountToken: cluster.getOptionalString('serviceAccountToken'),
          caData: cluster.getOptionalString('caData'),
          caFile: cluster.getOptionalString('caFile'),
          skipTLSVerify: cluster.getOptionalBoolean('skipTLSVerify') ?? false,
        });
      }
    }
    return new MlflowClusters(clusters);
  }

  private readonly byName: Map<string, MlflowClusterConfig>;

  constructor(clusters: MlflowClusterConfig[]) {
    this.byName = new Map(clusters.map(c => [c.name, c]));
  }

  /** Names of the usable clusters, in configuration order. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The cluster called `name`; an InputError naming the configured clusters otherwise. */
  get(name: string, field = 'cluster'): MlflowClusterConfig {
    const cluster = this.byName.get(name);
    if (!cluster) {
      const known = this.names();
      throw new InputError(
        `Invalid ${field}: received ${JSON.stringify(
          name,
        )}, but no such cluster is configured. Accepted: ${
          known.length > 0
            ? known.join(', ')
            : 'none (add one under kubernetes.clusterLocatorMethods with type config and authProvider serviceAccount)'
        }.`,
      );
    }
    return cluster;
  }

  /** A client configuration for the cluster called `name`. */
  kubeConfig(name: string): KubeConfig {
    const cluster = this.get(name);
    const kc = new KubeConfig();
    const caData =
      cluster.caData ??
      (cluster.caFile
        ? Buffer.from(readFileSync(cluster.caFile)).toString('base64')
        : undefined);
    kc.loadFromOptions({
      clusters: [
        {
          name: cluster.name,
          server: cluster.url,
          caData,
          skipTLSVerify: cluster.skipTLSVerify,
        },
      ],
      users: [{ name: 'backstage', token: cluster.serviceAccountToken }],
      contexts: [
        { name: cluster.name, cluster: cluster.name, user: 'backstage' },
      ],
      currentContext: cluster.name,
    });
    return kc;
  }
}
