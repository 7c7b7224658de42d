import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { MlflowEntityProvider } from './provider/MlflowEntityProvider';

/**
 * Adds the MLflow entity provider to the catalog.
 *
 * @public
 */
export const catalogModuleMlflow = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'mlflow-provider',
  register({ registerInit }) {
    registerInit({
      deps: {
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        scheduler: coreServices.scheduler,
        processing: catalogProcessingExtensionPoint,
      },
      async init({ logger, config, scheduler, processing }) {
        processing.addEntityProvider(
          ...MlflowEntityProvider.fromConfig(config, { logger, scheduler }),
        );
      },
    });
  },
});
