export { MlflowDecommissionLink } from './MlflowDecommissionLink';
