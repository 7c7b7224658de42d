export { readStackEnv, type StackEnv } from './readStackEnv';
export { readStackAppConfig } from './readStackAppConfig';
