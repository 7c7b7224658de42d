import { Config, ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { StackEnv } from './readStackEnv';

/** The Backstage config overlay that `stack/stack up` writes (the `local` cluster, database override). */
export function readStackAppConfig(stack: Pick<StackEnv, 'appConfigPath'>): {
  config: Config;
  data: JsonObject;
} {
  let text: string;
  try {
    text = readFileSync(stack.appConfigPath, 'utf8');
  } catch (error) {
    throw new Error(
      `The local stack's config overlay ${stack.appConfigPath} (STACK_APP_CONFIG) cannot be read: run stack/stack up (${error})`,
    );
  }
  const data = parse(text) as JsonObject;
  return { config: new ConfigReader(data, stack.appConfigPath), data };
}
