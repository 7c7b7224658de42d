import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { MlflowClient, mlflowApiRef } from './api';

/** The MLflow plugin for apps on the legacy frontend system. */
export const mlflowPlugin = createPlugin({
  id: 'mlflow',
  apis: [
    createApiFactory({
      api: mlflowApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new MlflowClient({ discoveryApi, fetchApi }),
    }),
  ],
});

/** The MLflow status card for an entity page's overview (legacy frontend system). */
export const EntityMlflowCard = mlflowPlugin.provide(
  createComponentExtension({
    name: 'EntityMlflowCard',
    component: {
      lazy: () =>
        import('./components/EntityMlflowCard').then(m => m.EntityMlflowCard),
    },
  }),
);

/** The MLflow tab of an entity page (legacy frontend system). */
export const EntityMlflowContent = mlflowPlugin.provide(
  createComponentExtension({
    name: 'EntityMlflowContent',
    component: {
      lazy: () =>
        import('./components/EntityMlflowContent').then(
          m => m.EntityMlflowContent,
        ),
    },
  }),
);
