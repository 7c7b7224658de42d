export { MlflowHealthSummary } from './MlflowHealthSummary';
