import type { CoreV1Api } from '@kubernetes/client-node';

/** The low-privilege MLflow user the deep health check signs in with. */
export type HealthCredentials = { username: string; password: string };

/** Where an instance's health Secret lives. */
export type HealthSecretLocation = {
  cluster: string;
  namespace: string;
  name: string;
};

/** The one Kubernetes call the reader makes: `get` of a named Secret (the narrowest RBAC). */
export type SecretsApi = Pick<CoreV1Api, 'readNamespacedSecret'>;

/** A Secret that could not be used; the message is ours and holds no value, so a summary may show it. */
export class HealthSecretError extends Error {
  name = 'HealthSecretError';
}

/** Reads health Secrets through the cluster and keeps them briefly in memory, never logged. */
export interface HealthCredentialsReader {
  read(location: HealthSecretLocation): Promise<HealthCredentials>;
  /** Drops a cached value, e.g. after the server refused it (the password was rotated). */
  forget(location: HealthSecretLocation): void;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

function decode(data: Record<string, string> | undefined, key: string) {
  const value = data?.[key];
  return value ? Buffer.from(value, 'base64').toString('utf8') : '';
}

/**
 * A reader over the configured clusters' credentials. A value is kept for `ttlMs` so a fleet
 * refresh costs one Secret read per instance at most; failures are not kept.
 */
export function createHealthCredentialsReader(options: {
  secretsFor: (cluster: string) => SecretsApi;
  ttlMs: number;
  /** A read that hangs fails after this, so a cached promise never outlives its check. */
  timeoutMs: number;
  /** Raw Kubernetes errors, for the backend log; they name the Secret, never its data. */
  log: (message: string, error: unknown) => void;
  now?: () => number;
}): HealthCredentialsReader {
  const { secretsFor, ttlMs, timeoutMs, log, now = Date.now } = options;
  const cached = new Map<
    string,
    { expiresAt: number; value: Promise<HealthCredentials> }
  >();
  const keyOf = ({ cluster, namespace, name }: HealthSecretLocation) =>
    JSON.stringify([cluster, namespace, name]);

  async function fetchCredentials(
    location: HealthSecretLocation,
  ): Promise<HealthCredentials> {
    const { cluster, namespace, name } = location;
    const where = `${namespace}/${name}`;
    let secret;
    let timer: NodeJS.Timeout | undefined;
    try {
      secret = await Promise.race([
        secretsFor(cluster).readNamespacedSecret({ name, namespace }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      log(`reading the health Secret ${where} failed`, error);
      const status = statusOf(error);
      if (status === 404) {
        throw new HealthSecretError(
          `the health Secret ${where} does not exist`,
        );
      }
      let reason = 'the error is in the backend log';
      if (status === 403) {
        reason = 'access denied';
      } else if (status) {
        reason = `HTTP ${status}`;
      }
      throw new HealthSecretError(
        `the health Secret ${where} could not be read (${reason})`,
      );
    } finally {
      clearTimeout(timer);
    }
    const username = decode(secret.data, 'username');
    const password = decode(secret.data, 'password');
    if (!username || !password) {
      throw new HealthSecretError(
        `the health Secret ${where} lacks the username or password key`,
      );
    }
    return { username, password };
  }

  return {
    read(location) {
      const key = keyOf(location);
      const hit = cached.get(key);
      if (hit && hit.expiresAt > now()) {
        return hit.value;
      }
      const value = fetchCredentials(location);
      if (ttlMs > 0) {
        cached.set(key, { expiresAt: now() + ttlMs, value });
        value.catch(() => {
          if (cached.get(key)?.value === value) {
            cached.delete(key);
          }
        });
      }
      return value;
    },
    forget(location) {
      cached.delete(keyOf(location));
    },
  };
}
