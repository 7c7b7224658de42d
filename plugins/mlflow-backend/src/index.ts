/**
 * The MLflow backend plugin: health reports of MLflow instances.
 *
 * @packageDocumentation
 */
export { mlflowPlugin as default } from './plugin';
export type {
  MlflowHealthService,
  MlflowHealthRequestOptions,
} from './service/MlflowHealthService';
