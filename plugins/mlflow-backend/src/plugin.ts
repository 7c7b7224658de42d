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
        cache: coreServices.cache,
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
        cache,
        httpAuth,
        httpRouter,
        permissions,
        permissionsRegistry,
        catalog,
        actionsRegistry,
      }) {
        permissionsRegistry.addPermissions(mlflowPermissions);
        const health = DefaultMlflowHealthService.fromConfig(config, {
          catalog,
          permissions,
          cache,
          logger,
        });
        httpRouter.use(await createRouter({ httpAuth, health }));
        actionsRegistry.register(createGetInstanceHealthAction({ health }));
      },
    });
  },
});
