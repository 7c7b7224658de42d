/**
 * The MLflow plugin for the new frontend system: an entity card, an entity tab, the fleet page at
 * `/mlflow` and the API client.
 *
 * @packageDocumentation
 */
export { mlflowPlugin as default } from './alpha/plugin';
export {
  fleetPageRouteRef,
  mlflowApi,
  mlflowEntityCard,
  mlflowEntityContent,
  mlflowFleetPage,
} from './alpha/extensions';
