import { Config } from '@backstage/config';
import { readStackAppConfig, readStackEnv } from '@internal/stack-env';

/**
 * The local stack's settings for integration tests: its environment (exported by
 * `eval "$(stack/stack env)"`, which scripts/test does) and its Backstage config overlay. Throws,
 * so the tests fail rather than skip, when the stack is not there.
 */
export function loadStack(): { config: Config; appConfigPath: string } {
  const stack = readStackEnv();
  return {
    config: readStackAppConfig(stack).config,
    appConfigPath: stack.appConfigPath,
  };
}

/** A short random suffix so that runs never collide with each other or with colleagues. */
export function uniqueSuffix(): string {
  return Math.random().toString(36).slice(2, 8).replace(/^\d/, 'x');
}
