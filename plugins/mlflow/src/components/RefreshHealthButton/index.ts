export { RefreshHealthButton } from './RefreshHealthButton';
