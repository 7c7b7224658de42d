export { MlflowUpgradeLink } from './MlflowUpgradeLink';
