export { MlflowFleetPage } from './MlflowFleetPage';
