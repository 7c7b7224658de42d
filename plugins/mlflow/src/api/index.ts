export { mlflowApiRef } from './MlflowApi';
export type { MlflowApi, MlflowGetHealthOptions } from './MlflowApi';
export { MlflowClient } from './MlflowClient';
export type { MlflowClientOptions } from './MlflowClient';
export { MlflowRequestTimeoutError } from './MlflowRequestTimeoutError';
