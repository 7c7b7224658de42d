export { EntityMlflowCard } from './EntityMlflowCard';
