/**
 * The MLflow backend plugin: health reports of MLflow instances.
 *
 * @packageDocumentation
 */
export { mlflowPlugin as default } from './plugin';
