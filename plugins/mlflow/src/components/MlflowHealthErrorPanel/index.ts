export { MlflowHealthErrorPanel } from './MlflowHealthErrorPanel';
export { describeMlflowHealthError } from './describeMlflowHealthError';
export type { MlflowHealthErrorDescription } from './describeMlflowHealthError';
