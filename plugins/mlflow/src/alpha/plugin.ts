import { createFrontendPlugin } from '@backstage/frontend-plugin-api';
import {
  fleetPageRouteRef,
  mlflowApi,
  mlflowEntityCard,
  mlflowEntityContent,
  mlflowFleetPage,
} from './extensions';

/**
 * The MLflow plugin for apps on the new frontend system.
 *
 * @alpha
 */
export const mlflowPlugin = createFrontendPlugin({
  pluginId: 'mlflow',
  title: 'MLflow',
  info: { packageJson: () => import('../../package.json') },
  routes: { fleet: fleetPageRouteRef },
  extensions: [
    mlflowApi,
    mlflowEntityCard,
    mlflowEntityContent,
    mlflowFleetPage,
  ],
});
