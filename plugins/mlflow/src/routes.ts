import { createRouteRef } from '@backstage/core-plugin-api';

/** The fleet page of the legacy plugin (mounted by the app, e.g. at `/mlflow`). */
export const fleetRouteRef = createRouteRef({ id: 'mlflow-fleet' });
