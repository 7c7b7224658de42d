export { EntityMlflowContent } from './EntityMlflowContent';
