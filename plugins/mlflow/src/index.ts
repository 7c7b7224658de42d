/**
 * The MLflow frontend plugin: an entity card and tab showing the health of an MLflow instance, and a
 * fleet page listing every instance.
 * This entry point is for the legacy frontend system; the new one imports `./alpha`.
 *
 * @packageDocumentation
 */
export {
  mlflowPlugin,
  EntityMlflowCard,
  EntityMlflowContent,
  MlflowFleetPage,
} from './plugin';
export { mlflowApiRef, MlflowClient, MlflowRequestTimeoutError } from './api';
export type {
  MlflowApi,
  MlflowClientOptions,
  MlflowGetHealthOptions,
} from './api';
export { isMlflowAvailable } from '@stateful-mlflow/plugin-mlflow-common';
