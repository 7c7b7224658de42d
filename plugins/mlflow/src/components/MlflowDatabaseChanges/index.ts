export { MlflowDatabaseChanges } from './MlflowDatabaseChanges';
