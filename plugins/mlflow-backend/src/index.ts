export { mlflowPlugin as default } from './plugin';
