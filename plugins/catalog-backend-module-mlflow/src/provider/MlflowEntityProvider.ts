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
import { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import { DEPLOYMENT_ANNOTATION_IDENTITY_SIGNATURE } from '@stateful-mlflow/plugin-mlflow-common';
import {
  MlflowClusters,
  MlflowInstanceIdentity,
  MlflowInstanceIdentityKeys,
} from '@stateful-mlflow/plugin-mlflow-node';
import { assignEntityNames } from './assignEntityNames';
import {
  KubernetesMlflowDeploymentLister,
  MlflowDeploymentLister,
} from './MlflowDeploymentLister';
import {
  mlflowInstanceEntities,
  mlflowInstanceLocation,
} from './mlflowInstanceEntities';
import {
  adoptedMlflowInstance,
  MlflowInstance,
  verifiedMlflowInstance,
} from './readMlflowInstance';
import {
  DEFAULT_OWNER,
  MlflowAdoptRule,
  readMlflowCatalogConfig,
} from './readMlflowCatalogConfig';

/** How long one listing of a cluster may take before the refresh of that cluster is skipped. */
const LIST_TIMEOUT_MS = 30_000;

/** @public */
export type MlflowEntityProviderOptions = {
  /** The one cluster this provider lists. */
  cluster: string;
  lister: MlflowDeploymentLister;
  /** Verifies the deploy action's signature on a Deployment; undefined when none verifies. */
  verify: (
    deployment: V1Deployment,
    cluster: string,
  ) => MlflowInstanceIdentity | undefined;
  /** Namespaces whose unsigned MLflow Deployments are adopted, with the owner from config. */
  adoptNamespaces: ReadonlyArray<MlflowAdoptRule>;
  logger: LoggerService;
  /** Runs the refresh; undefined when the caller drives `refresh()` itself (tests). */
  taskRunner?: SchedulerServiceTaskRunner;
};

/**
 * Emits the catalog entities of the MLflow instances running in one cluster: per trusted
 * Deployment labelled `app.kubernetes.io/name=mlflow`, a Component and its two Resources.
 *
 * One provider per cluster, each refresh a full mutation of that cluster's current listing: the
 * catalog replaces exactly this provider's entities, a deleted Deployment's entities go away, and
 * a cluster that does not answer only skips its own mutation. Nothing is kept in memory between
 * refreshes, so any backend replica may run any refresh.
 *
 * @public
 */
export class MlflowEntityProvider implements EntityProvider {
  /** One provider for each cluster of `catalog.providers.mlflow.clusters`. */
  static fromConfig(
    config: Config,
    deps: { logger: LoggerService; scheduler: SchedulerService },
  ): MlflowEntityProvider[] {
    const clusters = MlflowClusters.fromConfig(config);
    const settings = readMlflowCatalogConfig(config, clusters, deps.logger);
    const keys = MlflowInstanceIdentityKeys.fromConfig(config);
    if (!keys.canSign()) {
      deps.logger.warn(
        'mlflow.identity.signingKey is not set: no MLflow Deployment can be verified, so the catalog only shows those of catalog.providers.mlflow.adoptNamespaces.',
      );
    }
    const lister = new KubernetesMlflowDeploymentLister(
      name => clusters.kubeConfig(name),
      LIST_TIMEOUT_MS,
    );
    return settings.clusters.map(
      cluster =>
        new MlflowEntityProvider({
          cluster,
          lister,
          verify: (deployment, name) => keys.verifyDeployment(deployment, name),
          adoptNamespaces: settings.adoptNamespaces,
          logger: deps.logger,
          taskRunner: deps.scheduler.createScheduledTaskRunner(
            settings.schedule,
          ),
        }),
    );
  }

  private connection?: EntityProviderConnection;

  constructor(private readonly options: MlflowEntityProviderOptions) {}

  getProviderName(): string {
    return `MlflowEntityProvider:${this.options.cluster}`;
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
            `MLflow catalog refresh of cluster ${
              this.options.cluster
            } failed: ${stringifyError(error)}`,
          );
        }
      },
    });
  }

  /**
   * Lists the cluster and applies its entities as one full mutation of this provider. When the
   * listing fails, nothing is applied: the catalog keeps what the last successful refresh (on any
   * replica) applied, and other clusters are not affected.
   */
  async refresh(): Promise<void> {
    if (!this.connection) {
      throw new Error(
        `${this.getProviderName()} is not connected to the catalog`,
      );
    }
    const { cluster, lister, logger } = this.options;
    let listing;
    try {
      listing = await lister.list(cluster);
    } catch (error) {
      logger.warn(
        `Could not list MLflow Deployments in cluster ${cluster}: ${stringifyError(
          error,
        )}; its entities stay as they are until it answers`,
      );
      return;
    }
    const instances = listing.deployments.flatMap(deployment => {
      const instance = this.trustedInstance(deployment, listing.ingresses);
      return instance ? [instance] : [];
    });
    const names = assignEntityNames(instances);
    const entities: DeferredEntity[] = instances.flatMap(instance =>
      mlflowInstanceEntities(instance, names.get(instance)!).map(entity => ({
        entity,
        // Another source can neither overwrite these entities nor be overwritten by them.
        locationKey: mlflowInstanceLocation(instance),
      })),
    );
    await this.connection.applyMutation({ type: 'full', entities });
    logger.debug(
      `MLflow catalog refresh of cluster ${cluster}: ${instances.length} of ${listing.deployments.length} Deployment(s) trusted`,
    );
  }

  /** The instance of a Deployment the catalog may show, or undefined with the reason logged. */
  private trustedInstance(
    deployment: V1Deployment,
    ingresses: V1Ingress[],
  ): MlflowInstance | undefined {
    const { cluster, verify, adoptNamespaces, logger } = this.options;
    const identity = verify(deployment, cluster);
    if (identity) {
      return verifiedMlflowInstance(deployment, identity, DEFAULT_OWNER);
    }
    const namespace = deployment.metadata?.namespace ?? 'default';
    const rule = adoptNamespaces.find(
      r =>
        r.namespace === namespace &&
        (r.cluster === undefined || r.cluster === cluster),
    );
    if (rule) {
      return adoptedMlflowInstance(cluster, deployment, ingresses, rule);
    }
    const where = `${namespace}/${deployment.metadata?.name} in cluster ${cluster}`;
    if (
      deployment.metadata?.annotations?.[
        DEPLOYMENT_ANNOTATION_IDENTITY_SIGNATURE
      ]
    ) {
      logger.warn(
        `Ignoring MLflow Deployment ${where}: its identity signature does not verify (copied from another place, changed after signing, or signed with another key) and its namespace is not adopted`,
      );
    } else {
      logger.debug(
        `Ignoring MLflow Deployment ${where}: not signed by the deploy action and its namespace is not adopted`,
      );
    }
    return undefined;
  }
}
