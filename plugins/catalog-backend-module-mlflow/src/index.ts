/**
 * Catalog module that discovers MLflow instances in the configured Kubernetes clusters.
 *
 * @packageDocumentation
 */
export { catalogModuleMlflow as default } from './module';
export { MlflowEntityProvider } from './provider/MlflowEntityProvider';
export type { MlflowEntityProviderOptions } from './provider/MlflowEntityProvider';
export type { MlflowAdoptRule } from './provider/readMlflowCatalogConfig';
export type {
  ClusterMlflowObjects,
  MlflowDeploymentLister,
} from './provider/MlflowDeploymentLister';
