/**
 * The MLflow plugin for the new frontend system: an entity card, an entity tab and the API client.
 *
 * @packageDocumentation
 */
export { mlflowPlugin as default } from './alpha/plugin';
export {
  mlflowApi,
  mlflowEntityCard,
  mlflowEntityContent,
} from './alpha/extensions';
