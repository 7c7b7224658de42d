export { MlflowLinksCard } from './MlflowLinksCard';
export {
  buildMlflowLinks,
  rdsConsoleUrl,
  s3ConsoleUrl,
} from './buildMlflowLinks';
