import {
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { stringifyError } from '@backstage/errors';
import {
  DeferredEntity,
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { assignEntityNames } from './assignEntityNames';
import {
  KubernetesMlflowDeploymentLister,
  MlflowDeploymentLister,
} from './MlflowDeploymentLister';
import { mlflowInstanceEntities } from './mlflowInstanceEntities';
import { MlflowInstance, readMlflowInstance } from './readMlflowInstance';
import { readMlflowCatalogConfig } from './readMlflowCatalogConfig';

export type MlflowEntityProviderOptions = {
  clusters: string[];
  defaultOwner: string;
  lister: MlflowDeploymentLister;
  logger: LoggerService;
  /** Runs the refresh; undefined when the caller drives `refresh()` itself (tests). */
  taskRunner?: SchedulerServiceTaskRunner;
};

/**
 * Emits the catalog entities of the MLflow instances running in the configured clusters: per
 * Deployment labelled `app.kubernetes.io/name=mlflow`, a Component and its two Resources. Each
 * refresh is a full mutation, so the entities of a deleted Deployment go away.
 */
export class MlflowEntityProvider implements EntityProvider {
  static fromConfig(
    config: Config,
    deps: { logger: LoggerService; scheduler: SchedulerService },
  ): MlflowEntityProvider {
    const clusters = MlflowClusters.fromConfig(config);
    const settings = readMlflowCatalogConfig(config, clusters);
    const intervalMs = settings.refreshIntervalSeconds * 1000;
    return new MlflowEntityProvider({
      clusters: settings.clusters,
      defaultOwner: settings.defaultOwner,
      // A cluster that does not answer within one interval must not hold up the others.
      lister: new KubernetesMlflowDeploymentLister(
        name => clusters.kubeConfig(name),
        Math.max(intervalMs, 10_000),
      ),
      logger: deps.logger,
      taskRunner: deps.scheduler.createScheduledTaskRunner({
        frequency: { seconds: settings.refreshIntervalSeconds },
        timeout: { seconds: Math.max(settings.refreshIntervalSeconds * 2, 60) },
      }),
    });
  }

  private connection?: EntityProviderConnection;
  /** The last good listing per cluster, used while a cluster does not answer. */
  private readonly lastInstances = new Map<string, MlflowInstance[]>();

  constructor(private readonly options: MlflowEntityProviderOptions) {}

  getProviderName(): string {
    return 'MlflowEntityProvider';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner?.run({
      id: `${this.getProviderName()}:refresh`,
      fn: async () => {
        try {
          await this.refresh();
        } catch (error) {
          this.options.logger.error(
            `MLflow catalog refresh failed: ${stringifyError(error)}`,
          );
        }
      },
    });
  }

  /**
   * Lists every cluster and applies the entities as one full mutation. A cluster that fails keeps
   * its last listing; when it has none yet, nothing is applied, so a transient error never removes
   * entities.
   */
  async refresh(): Promise<void> {
    if (!this.connection) {
      throw new Error('MlflowEntityProvider is not connected to the catalog');
    }
    const { clusters, lister, logger, defaultOwner } = this.options;
    const results = await Promise.all(
      clusters.map(async cluster => {
        try {
          const { deployments, ingresses } = await lister.list(cluster);
          const instances = deployments.map(d =>
            readMlflowInstance(cluster, d, ingresses),
          );
          this.lastInstances.set(cluster, instances);
          return instances;
        } catch (error) {
          const previous = this.lastInstances.get(cluster);
          logger.warn(
            `Could not list MLflow Deployments in cluster ${cluster}: ${stringifyError(
              error,
            )}; ${
              previous
                ? 'keeping its entities from the last refresh'
                : 'skipping this refresh'
            }`,
          );
          return previous;
        }
      }),
    );
    if (results.some(r => r === undefined)) {
      return;
    }
    const instances = results.flatMap(r => r ?? []);
    const names = assignEntityNames(instances);
    const entities: DeferredEntity[] = instances.flatMap(instance =>
      mlflowInstanceEntities(instance, names.get(instance)!, {
        defaultOwner,
      }).map(entity => ({ entity })),
    );
    await this.connection.applyMutation({ type: 'full', entities });
    logger.debug(
      `MLflow catalog refresh: ${instances.length} instance(s) in ${clusters.length} cluster(s)`,
    );
  }
}
