// The harness pieces that bench/ drives too (by package name).
export { useBackstage } from './lib/backstageUnderTest';
export type { BackstageUnderTest } from './lib/backstageUnderTest';
export { launchChromium, signInAsGuest } from './lib/browser';
export { waitForEntity } from './lib/catalogEntities';
export {
  defaultResourceNames,
  deleteInstanceResources,
} from './lib/instanceResources';
export { ScaffolderClient } from './lib/scaffolderClient';
export type { TaskEvent } from './lib/scaffolderClient';
export { startBackend } from './lib/startBackend';
