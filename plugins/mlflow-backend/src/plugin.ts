import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { mlflowPermissions } from '@stateful-mlflow/plugin-mlflow-common';
import { createGetInstanceHealthAction } from './actions/getInstanceHealthAction';
import { createRouter } from './router';
import { DefaultMlflowHealthService } from './service/DefaultMlflowHealthService';
import { readMlflowHealthConfig } from './service/readMlflowHealthConfig';
import { DatabaseRefreshLimiter } from './service/RefreshLimiter';

/**
 * The MLflow backend plugin: the health API (`/api/mlflow/v1/health`) and the
 * `get-instance-health` action.
 *
 * @public
 */
export const mlflowPlugin = createBackendPlugin({
  pluginId: 'mlflow',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        auth: coreServices.auth,
        cache: coreServices.cache,
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
        actionsRegistry: actionsRegistryServiceRef,
      },
      async init({
        config,
        logger,
        auth,
        cache,
        database,
        httpAuth,
        httpRouter,
        permissions,
        permissionsRegistry,
        catalog,
        actionsRegistry,
      }) {
        permissionsRegistry.addPermissions(mlflowPermissions);
        const { refreshMinIntervalSeconds } = readMlflowHealthConfig(config);
        const health = DefaultMlflowHealthService.fromConfig(config, {
          catalog,
          auth,
          permissions,
          cache,
          logger,
          // In the database, so the limit holds across backend replicas.
          refreshLimiter:
            refreshMinIntervalSeconds > 0
              ? await DatabaseRefreshLimiter.create(
                  database,
                  refreshMinIntervalSeconds * 1000,
                )
              : undefined,
        });
        httpRouter.use(await createRouter({ httpAuth, health }));
        actionsRegistry.register(createGetInstanceHealthAction({ health }));
      },
    });
  },
});
