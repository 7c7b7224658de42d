/**
 * Scaffolder actions that provision a stateful MLflow tracking server: S3 artifact bucket, RDS
 * PostgreSQL instance, database and role, IAM role, and the Kubernetes deployment.
 *
 * @packageDocumentation
 */

export { scaffolderModule as default } from './module';
export {
  renderMlflowManifests,
  manifestsInApplyOrder,
  sizeConnectionPools,
  allowedHosts,
  MLFLOW_PORT,
  BACKEND_STORE_URI_KEY,
} from './kubernetes/renderMlflowManifests';
export type {
  BackendStore,
  MlflowManifestOptions,
  MlflowManifests,
} from './kubernetes/renderMlflowManifests';
export { createS3CreateAction } from './actions/s3Create';
export { createRdsCreateAction } from './actions/rdsCreate';
export { createDatabaseCreateAction } from './actions/databaseCreate';
export type { DatabaseConnectionOverride } from './actions/databaseCreate';
export { createIamCreateRoleAction } from './actions/iamCreateRole';
export { createKubernetesDeployAction } from './actions/kubernetesDeploy';
export {
  kubernetesApiFromClusters,
  FIELD_MANAGER,
} from './kubernetes/kubernetesApi';
export type {
  MlflowKubernetesApi,
  KubernetesApiProvider,
  ObjectRef,
} from './kubernetes/kubernetesApi';
export type { AwsClientConfigProvider } from './aws/clients';
