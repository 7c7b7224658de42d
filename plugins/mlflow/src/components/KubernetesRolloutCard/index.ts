export { KubernetesRolloutCard } from './KubernetesRolloutCard';
