import type { V1Secret } from '@kubernetes/client-node';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import {
  authSecretManifest,
  healthSecretManifest,
} from '../kubernetes/authSecrets';
import type { FetchLike } from '../tracking/healthUser';
import { FakeKubernetesApi } from './FakeKubernetesApi';

/** The passwords the seeded Secrets hold, so tests can look for them where they must not be. */
export const SEEDED_ADMIN_PASSWORD = 'seeded-admin-password-0123456789';
export const SEEDED_HEALTH_PASSWORD = 'seeded-health-password-0123456789';

const encode = (data: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(data).map(([k, v]) => [
      k,
      Buffer.from(v).toString('base64'),
    ]),
  );

/** The auth and health Secrets as mlflow:database:create writes them, stored in the fake cluster. */
export function seedAuthSecrets(
  cluster: FakeKubernetesApi,
  o: { name: string; namespace?: string; labels: Record<string, string> },
) {
  const names = resolveInstanceNames({ name: o.name, namespace: o.namespace });
  const common = { namespace: names.namespace, labels: o.labels };
  for (const secret of [
    authSecretManifest({
      ...common,
      secretName: names.authSecretName,
      adminPassword: SEEDED_ADMIN_PASSWORD,
      flaskSecretKey: 'seeded-flask-key',
      config: `[mlflow]\nadmin_password = ${SEEDED_ADMIN_PASSWORD}\n`,
    }),
    healthSecretManifest({
      ...common,
      secretName: names.healthSecretName,
      password: SEEDED_HEALTH_PASSWORD,
    }),
  ]) {
    const { stringData, ...rest } = secret;
    const stored: V1Secret = { ...rest, data: encode(stringData!) };
    cluster.objects.set(
      `Secret/${names.namespace}/${secret.metadata!.name}`,
      stored,
    );
  }
}

/** MLflow's auth API as far as the deploy step uses it: users known, calls recorded. */
export function fakeMlflowAuthApi(options: { existingUsers?: string[] } = {}) {
  const users = new Set(options.existingUsers ?? ['admin']);
  /** Passwords set through the API; a user without one (seeded) signs in with any. */
  const passwords = new Map<string, string>();
  const calls: Array<{ method: string; path: string; user: string }> = [];
  const respond = (status: number, body: unknown = {}) => ({
    status,
    text: async () => JSON.stringify(body),
  });
  const fetch: FetchLike = async (url, init) => {
    const { pathname, searchParams } = new URL(url);
    const [user, ...rest] = Buffer.from(
      init.headers.Authorization.replace(/^Basic /, ''),
      'base64',
    )
      .toString()
      .split(':');
    const signsIn =
      users.has(user) &&
      (!passwords.has(user) || passwords.get(user) === rest.join(':'));
    calls.push({ method: init.method, path: pathname, user });
    const body = init.body ? JSON.parse(init.body) : {};
    switch (`${init.method} ${pathname}`) {
      case 'GET /api/2.0/mlflow/users/get':
        return users.has(searchParams.get('username')!)
          ? respond(200)
          : respond(404, { error_code: 'RESOURCE_DOES_NOT_EXIST' });
      case 'POST /api/2.0/mlflow/users/create':
        users.add(body.username);
        passwords.set(body.username, body.password);
        return respond(200);
      case 'PATCH /api/2.0/mlflow/users/update-password':
        passwords.set(body.username, body.password);
        return respond(200);
      case 'POST /api/2.0/mlflow/experiments/search':
        return signsIn ? respond(200, { experiments: [] }) : respond(401);
      default:
        return respond(404, { error_code: 'ENDPOINT_NOT_FOUND' });
    }
  };
  return { fetch, calls, users, passwords };
}
