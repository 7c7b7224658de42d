import { createFrontendPlugin } from '@backstage/frontend-plugin-api';
import { mlflowApi, mlflowEntityCard, mlflowEntityContent } from './extensions';

/** The MLflow plugin for apps on the new frontend system. */
export const mlflowPlugin = createFrontendPlugin({
  pluginId: 'mlflow',
  title: 'MLflow',
  info: { packageJson: () => import('../../package.json') },
  extensions: [mlflowApi, mlflowEntityCard, mlflowEntityContent],
});
