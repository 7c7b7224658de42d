export { OverallStatusBadge } from './OverallStatusBadge';
