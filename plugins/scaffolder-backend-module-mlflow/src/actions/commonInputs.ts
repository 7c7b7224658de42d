import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';

// Transitional: the shared fields moved to ./inputProperties and the default names to
// resolveInstanceNames of mlflow-common. Removed once no action imports this file.
export * from './inputProperties';
export {
  DEFAULT_ARTIFACT_PREFIX,
  DEFAULT_SERVICE_ACCOUNT,
} from '@stateful-mlflow/plugin-mlflow-common';
export const defaultNamespace = (name: string) =>
  resolveInstanceNames({ name }).namespace;
export const defaultDatabaseSecretName = (name: string) =>
  resolveInstanceNames({ name }).databaseSecretName;
