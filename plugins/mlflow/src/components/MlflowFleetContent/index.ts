export { MlflowFleetContent } from './MlflowFleetContent';
