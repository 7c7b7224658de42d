import { Config, ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import yaml from 'yaml';

const REQUIRED_ENV = [
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'PGHOST',
  'PGPORT',
];

/**
 * The local stack's settings for integration tests: its environment (exported by
 * `eval "$(stack/stack env)"`, which scripts/test does) and its Backstage config overlay. Throws,
 * so the tests fail rather than skip, when the stack is not there.
 */
export function loadStack(): { config: Config; appConfigPath: string } {
  const missing = REQUIRED_ENV.filter(name => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `The local stack's environment is missing (${missing.join(
        ', ',
      )} unset). Integration tests run against the real stack: use scripts/test, or run stack/stack up and eval "$(stack/stack env)" before jest.`,
    );
  }
  const appConfigPath =
    process.env.STACK_APP_CONFIG ??
    resolve(__dirname, '../../../../stack/.state/app-config.stack.yaml');
  let text: string;
  try {
    text = readFileSync(appConfigPath, 'utf8');
  } catch (error) {
    throw new Error(
      `The local stack's config overlay ${appConfigPath} is missing: run stack/stack up (${error})`,
    );
  }
  return {
    config: new ConfigReader(yaml.parse(text) as JsonObject),
    appConfigPath,
  };
}

/** A short random suffix so that runs never collide with each other or with colleagues. */
export function uniqueSuffix(): string {
  return Math.random().toString(36).slice(2, 8).replace(/^\d/, 'x');
}
