import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import type { JSX } from 'react';
import { MlflowClient, mlflowApiRef } from './api';
import { fleetRouteRef } from './routes';

/**
 * The MLflow plugin for apps on the legacy frontend system.
 *
 * @public
 */
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
  routes: { fleet: fleetRouteRef },
});

/**
 * The MLflow status card for an entity page's overview (legacy frontend system).
 *
 * @public
 */
export const EntityMlflowCard: () => JSX.Element = mlflowPlugin.provide(
  createComponentExtension({
    name: 'EntityMlflowCard',
    component: {
      lazy: () =>
        import('./components/EntityMlflowCard').then(m => m.EntityMlflowCard),
    },
  }),
);

/**
 * The MLflow tab of an entity page (legacy frontend system).
 *
 * @public
 */
export const EntityMlflowContent: () => JSX.Element = mlflowPlugin.provide(
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

/**
 * The fleet page: every MLflow instance the user may see, with its health (legacy frontend system).
 * Mount it with `<Route path="/mlflow" element={<MlflowFleetPage />} />`.
 *
 * @public
 */
export const MlflowFleetPage: () => JSX.Element = mlflowPlugin.provide(
  createRoutableExtension({
    name: 'MlflowFleetPage',
    component: () =>
      import('./components/MlflowFleetPage').then(m => m.MlflowFleetPage),
    mountPoint: fleetRouteRef,
  }),
);
