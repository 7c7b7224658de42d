/**
 * Node.js helpers shared by the MLflow backend plugins: clusters from the standard Kubernetes
 * configuration and AWS client configuration from the standard AWS settings.
 *
 * @packageDocumentation
 */
export * from './clusters/MlflowClusters';
export * from './aws/AwsClientConfigFactory';
export * from './identity';
