// The harness pieces that bench/ drives too (by package name).
export { useBackstage } from './lib/backstageUnderTest';
export type { BackstageUnderTest } from './lib/backstageUnderTest';
export { launchChromium, signInAsGuest } from './lib/browser';
export {
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
export type { TaskEvent } from './lib/scaffolderClient';
export { startStackBackend } from './lib/startBackend';
export { devInstanceValues } from './lib/templateValues';
