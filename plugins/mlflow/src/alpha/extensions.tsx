import {
  ApiBlueprint,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import TimelineIcon from '@material-ui/icons/Timeline';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { Content } from '@backstage/core-components';
import { isMlflowAvailable } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowClient, mlflowApiRef } from '../api';

/**
 * The MLflow API client, over the backend's `mlflow` plugin.
 *
 * @alpha
 */
export const mlflowApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: mlflowApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new MlflowClient({ discoveryApi, fetchApi }),
    }),
});

/**
 * The status card on the overview of entities that are MLflow instances, and only those.
 *
 * @alpha
 */
export const mlflowEntityCard = EntityCardBlueprint.make({
  name: 'status',
  params: {
    filter: isMlflowAvailable,
    loader: () =>
      import('../components/EntityMlflowCard').then(m => (
        <m.EntityMlflowCard />
      )),
  },
});

/**
 * The MLflow tab on entities that are MLflow instances, and only those.
 *
 * @alpha
 */
export const mlflowEntityContent = EntityContentBlueprint.make({
  params: {
    path: '/mlflow',
    title: 'MLflow',
    filter: isMlflowAvailable,
    loader: () =>
      import('../components/EntityMlflowContent').then(m => (
        <m.EntityMlflowContent />
      )),
  },
});

/**
 * The route of the fleet page, for links from other plugins.
 *
 * @alpha
 */
export const fleetPageRouteRef = createRouteRef();

/**
 * The fleet page at `/mlflow`, in the sidebar: every MLflow instance the user may see.
 *
 * @alpha
 */
export const mlflowFleetPage = PageBlueprint.make({
  params: {
    path: '/mlflow',
    title: 'MLflow fleet',
    icon: <TimelineIcon />,
    routeRef: fleetPageRouteRef,
    loader: () =>
      import('../components/MlflowFleetContent').then(m => (
        <Content>
          <m.MlflowFleetContent />
        </Content>
      )),
  },
});
