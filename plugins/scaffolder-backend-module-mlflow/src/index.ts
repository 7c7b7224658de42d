/**
 * Scaffolder actions that provision a stateful MLflow tracking server: S3 artifact bucket, RDS
 * PostgreSQL instance, database and role, IAM role, and the Kubernetes deployment.
 *
 * The module registers every action; the factories are exported for a backend that registers the
 * actions itself, with its own clients.
 *
 * @packageDocumentation
 */

export { scaffolderModule as default } from './module';
export {
  createInstancePlanAction,
  createS3CreateAction,
  createRdsCreateAction,
  createDatabaseCreateAction,
  createIamCreateRoleAction,
  createKubernetesDeployAction,
} from './actionFactories';
export { kubernetesApiFromClusters } from './kubernetes/kubernetesApi';
export type {
  KubernetesApiProvider,
  MlflowKubernetesApi,
  ObjectRef,
  WatchHandlers,
} from './kubernetes/kubernetesApi';
export type { AwsClientConfigProvider } from './aws/clients';
export { ProvisioningGuardRails } from './guardRails/ProvisioningGuardRails';
export type { ProvisioningGuardRailsOptions } from './guardRails/ProvisioningGuardRails';
export type { InstanceChangeAuthorizationDeps } from './authorization/authorizeInstanceChange';
export type { DatabaseConnectionOverride } from './database/databasePlan';
export type {
  SqlClient,
  SqlConnector,
  SslMode,
} from './database/postgresConnection';
export type {
  CallAbandonedError,
  CallLimit,
  StepDeadline,
} from './util/stepDeadline';
export type { SecretReaderSubject } from './kubernetes/renderMlflowManifests';
export type { FetchLike } from './tracking/healthUser';
