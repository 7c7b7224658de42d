import type { Client } from 'pg';
import { stackSuperuser } from './instanceDatabase';
import { readStackAppConfig, readStackEnv } from '@internal/stack-env';
import { RedisServer, startRedisServer } from './redisServer';
import { StartedBackend, startBackend } from './startBackend';

/** Backend replicas sharing one fresh PostgreSQL database and one Redis, as in production. */
export type BackendReplicas = {
  replicas: StartedBackend[];
  redis: RedisServer;
  /** The fresh database on the stack's PostgreSQL that every replica uses. */
  database: string;
  stop(): Promise<void>;
};

const quoteIdentifier = (identifier: string) =>
  `"${identifier.replace(/"/g, '""')}"`;

async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await stackSuperuser();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Starts `count` backends (packages/backend with the stack overlay) on a new database of the
 * stack's PostgreSQL (one schema per plugin) and a Redis of their own as `backend.cache`, with
 * `extraConfig` merged last. Replicas start one after the other so that the first runs the
 * migrations alone.
 */
export async function startBackendReplicas(options: {
  count: number;
  extraConfig: Record<string, unknown>;
}): Promise<BackendReplicas> {
  const env = readStackEnv();
  const database = `e2e_replicas_${Date.now().toString(36)}`;
  await withAdmin(client =>
    client.query(`CREATE DATABASE ${quoteIdentifier(database)}`),
  );
  const redis = await startRedisServer();
  const replicas: StartedBackend[] = [];
  const stop = async () => {
    await Promise.all(replicas.map(r => r.stop()));
    await redis.stop();
    await withAdmin(client =>
      client.query(
        `DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`,
      ),
    );
  };
  try {
    for (let i = 0; i < options.count; i++) {
      replicas.push(
        await startBackend({
          configPaths: [env.appConfigPath],
          extraConfig: {
            ...options.extraConfig,
            backend: {
              database: {
                client: 'pg',
                pluginDivisionMode: 'schema',
                connection: {
                  host: env.pgHost,
                  port: env.pgPort,
                  user: env.pgUser,
                  password: env.pgPassword,
                  database,
                },
              },
              cache: { store: 'redis', connection: redis.url },
            },
          },
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { replicas, redis, database, stop };
}

/**
 * The stack's clusters (from its overlay) plus one whose API server never answers (a closed
 * port), for `kubernetes.clusterLocatorMethods`.
 */
export function stackClustersWithUnreachable(
  unreachableName: string,
  closedPort: number,
): Record<string, unknown> {
  const { data } = readStackAppConfig(readStackEnv());
  const kubernetes = data.kubernetes as {
    clusterLocatorMethods: Array<{ type: string; clusters: unknown[] }>;
  };
  const [method] = kubernetes.clusterLocatorMethods;
  return {
    ...kubernetes,
    clusterLocatorMethods: [
      {
        ...method,
        clusters: [
          ...method.clusters,
          {
            name: unreachableName,
            url: `https://127.0.0.1:${closedPort}`,
            authProvider: 'serviceAccount',
            serviceAccountToken: 'unused',
            skipTLSVerify: true,
            skipMetricsLookup: true,
          },
        ],
      },
    ],
  };
}
