export { CheckDetailsCard } from './CheckDetailsCard';
