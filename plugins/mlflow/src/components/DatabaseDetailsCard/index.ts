export { DatabaseDetailsCard } from './DatabaseDetailsCard';
