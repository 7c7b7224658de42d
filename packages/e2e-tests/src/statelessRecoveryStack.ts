import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { escapeIdentifier } from 'pg';
import { stackSuperuser } from './lib/instanceDatabase';
import { readStackEnv } from '@internal/stack-env';

/**
 * The Backstage config overlay that `stack/stack up` writes (the `local` cluster, the database
 * connection override, the allowed tracking hosts), from STACK_APP_CONFIG of `stack/stack env`.
 */
export function stackAppConfigPath(): string {
  const path = readStackEnv().appConfigPath;
  if (!existsSync(path)) {
    throw new Error(
      `The local stack's Backstage overlay ${path} (STACK_APP_CONFIG) is missing: run stack/stack up`,
    );
  }
  return path;
}

/** The stack's cluster as its administrator sees it (KUBECONFIG): the operator's view. */
export function stackKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(readStackEnv().kubeconfig);
  return kubeConfig;
}

/**
 * Drops a database and its login role from the stack's PostgreSQL, which stands in for every RDS
 * instance: a run's instance leaves nothing behind there. FORCE ends the connections of pods that
 * are still shutting down.
 */
export async function dropStackDatabase(name: string): Promise<void> {
  const client = await stackSuperuser();
  try {
    const id = escapeIdentifier(name);
    await client.query(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`);
    await client.query(`DROP ROLE IF EXISTS ${id}`);
  } finally {
    await client.end();
  }
}
