import { InputError } from '@backstage/errors';
import type { V1Secret } from '@kubernetes/client-node';
import {
  LABEL_APP_MANAGED_BY,
  MANAGED_BY_STATEFUL_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import { randomBytes } from 'node:crypto';
import type { SslMode } from '../database/postgresConnection';
import { MlflowKubernetesApi } from './kubernetesApi';

/** Permissions MLflow's basic-auth app knows; the default one applies to every signed-in user. */
export const MLFLOW_PERMISSIONS = [
  'READ',
  'EDIT',
  'MANAGE',
  'NO_PERMISSIONS',
] as const;
export type MlflowPermission = (typeof MLFLOW_PERMISSIONS)[number];

/** The admin MLflow creates on its first start from basic_auth.ini. */
export const ADMIN_USERNAME = 'admin';
/** The MLflow user of Backstage's deep health check: default permission, never admin. */
export const HEALTH_USERNAME = 'backstage-health';
/** Where the server finds basic_auth.ini: the auth Secret mounted as a file. */
export const AUTH_CONFIG_FILE = 'basic_auth.ini';
export const AUTH_CONFIG_DIR = '/etc/mlflow-auth';
/** How long a tracking server worker trusts a checked login: a rotated password waits this long. */
export const AUTH_CACHE_TTL_SECONDS = 60;

/** Keys of the auth Secret (`<name>-mlflow-auth`); the health check and the card rely on them. */
export const AUTH_SECRET_KEYS = {
  adminUsername: 'admin-username',
  adminPassword: 'admin-password',
  flaskSecretKey: 'flask-secret-key',
  config: AUTH_CONFIG_FILE,
} as const;
/** Keys of the health Secret (`<name>-mlflow-health`). */
export const HEALTH_SECRET_KEYS = {
  username: 'username',
  password: 'password',
} as const;

/** Environment of the migration Job's auth container: the health login, from the health Secret. */
export const HEALTH_LOGIN_ENV = {
  username: 'MLFLOW_HEALTH_USERNAME',
  password: 'MLFLOW_HEALTH_PASSWORD',
} as const;

/**
 * What the migration Job's auth container runs (`python -c`, the sign-in database's URI in the
 * variable `databaseUriEnv`): MLflow's own auth store migrates the sign-in database to head (as
 * `python -m mlflow.server.auth db upgrade` does), then makes the
 * health-check user with the health Secret's password (created, or its password set), hashed by
 * MLflow itself. So the deploy step's check after the rollout is one signed-in request. Without
 * the health Secret (optional in the pod) only the migration runs.
 */
export function authMigrationScript(databaseUriEnv: string): string {
  return [
    'import os',
    'from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore',
    'store = SqlAlchemyStore()',
    `store.init_db(os.environ["${databaseUriEnv}"])`,
    'print("sign-in database migrated", flush=True)',
    `username = os.environ.get("${HEALTH_LOGIN_ENV.username}")`,
    `password = os.environ.get("${HEALTH_LOGIN_ENV.password}")`,
    'if username and password:',
    '    if store.has_user(username):',
    '        store.update_user(username, password=password)',
    '    else:',
    '        store.create_user(username, password)',
    '    print(f"health-check user {username} ready", flush=True)',
    '',
  ].join('\n');
}

/** 256 random bits, URL-safe: passwords and the Flask session key. */
export function generateSecretValue(): string {
  return randomBytes(32).toString('base64url');
}

/** Where a database is reached, without a password: libpq takes it from PGPASSWORD. */
export type PasswordlessDatabase = {
  username: string;
  host: string;
  port: number;
  databaseName: string;
  sslMode: SslMode;
};

/** A PostgreSQL URI without a password; psycopg (libpq) reads PGPASSWORD from the environment. */
export function passwordlessUri(c: PasswordlessDatabase): string {
  return `postgresql://${encodeURIComponent(c.username)}@${c.host}:${c.port}/${
    c.databaseName
  }?sslmode=${c.sslMode}`;
}

/** MLflow's auth config; its database_uri carries no password (PGPASSWORD is in the env). */
export function basicAuthIni(o: {
  database: PasswordlessDatabase;
  adminPassword: string;
  defaultPermission: MlflowPermission;
}): string {
  return [
    '[mlflow]',
    `default_permission = ${o.defaultPermission}`,
    `database_uri = ${passwordlessUri(o.database)}`,
    `admin_username = ${ADMIN_USERNAME}`,
    `admin_password = ${o.adminPassword}`,
    'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
    // Every signed-in request otherwise pays a scrypt password check (seconds on a busy node, past
    // the health check's timeout); a worker keeps a good login this long. Older MLflow ignores it.
    `auth_cache_ttl_seconds = ${AUTH_CACHE_TTL_SECONDS}`,
    '',
  ].join('\n');
}

function secret(
  o: { secretName: string; namespace: string; labels: Record<string, string> },
  stringData: Record<string, string>,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: o.secretName, namespace: o.namespace, labels: o.labels },
    type: 'Opaque',
    stringData,
  };
}

/** The auth Secret: admin login, Flask secret key (shared by every replica), basic_auth.ini. */
export function authSecretManifest(o: {
  secretName: string;
  namespace: string;
  labels: Record<string, string>;
  adminPassword: string;
  flaskSecretKey: string;
  config: string;
}): V1Secret {
  return secret(o, {
    [AUTH_SECRET_KEYS.adminUsername]: ADMIN_USERNAME,
    [AUTH_SECRET_KEYS.adminPassword]: o.adminPassword,
    [AUTH_SECRET_KEYS.flaskSecretKey]: o.flaskSecretKey,
    [AUTH_SECRET_KEYS.config]: o.config,
  });
}

/** The health Secret: the login of Backstage's health-check user. */
export function healthSecretManifest(o: {
  secretName: string;
  namespace: string;
  labels: Record<string, string>;
  password: string;
}): V1Secret {
  return secret(o, {
    [HEALTH_SECRET_KEYS.username]: HEALTH_USERNAME,
    [HEALTH_SECRET_KEYS.password]: o.password,
  });
}

/**
 * Reads a Secret these actions manage, decoded. Undefined when absent; an InputError naming
 * `field` when it exists but was written by someone else (it is never overwritten).
 */
export async function readManagedSecret(
  kube: MlflowKubernetesApi,
  o: { namespace: string; secretName: string; field: string },
): Promise<Record<string, string> | undefined> {
  const found = await kube.read<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    name: o.secretName,
    namespace: o.namespace,
  });
  if (!found) {
    return undefined;
  }
  if (
    found.metadata?.labels?.[LABEL_APP_MANAGED_BY] !==
    MANAGED_BY_STATEFUL_MLFLOW
  ) {
    throw new InputError(
      `Invalid ${o.field}: received "${o.secretName}", but Secret ${o.namespace}/${o.secretName} already exists and is not managed by Backstage's MLflow actions. It is not overwritten: choose another ${o.field}.`,
    );
  }
  return Object.fromEntries(
    Object.entries(found.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString(),
    ]),
  );
}

/**
 * Writes the auth and health Secrets. The admin password, the Flask key and the health password
 * are generated once and kept by every rerun (the Secret is their source of truth); a Secret
 * deleted by hand gets new ones. basic_auth.ini is rewritten each run, so a changed default
 * permission or endpoint lands. Returns the admin and health logins the Secrets hold.
 */
export async function writeAuthSecrets(o: {
  kube: MlflowKubernetesApi;
  namespace: string;
  labels: Record<string, string>;
  authSecretName: string;
  healthSecretName: string;
  authDatabase: PasswordlessDatabase;
  defaultPermission: MlflowPermission;
  log: (message: string) => void;
}): Promise<Array<{ username: string; password: string }>> {
  const { kube, namespace, labels } = o;
  const current = await readManagedSecret(kube, {
    namespace,
    secretName: o.authSecretName,
    field: 'authSecretName',
  });
  const adminPassword = current?.[AUTH_SECRET_KEYS.adminPassword];
  const flaskSecretKey = current?.[AUTH_SECRET_KEYS.flaskSecretKey];
  o.log(
    adminPassword
      ? `Keeping the admin login in Secret ${namespace}/${o.authSecretName}; default permission of signed-in users: ${o.defaultPermission}`
      : `Generating the admin login of MLflow's sign-in into Secret ${namespace}/${o.authSecretName}; default permission of signed-in users: ${o.defaultPermission}`,
  );
  const admin = adminPassword || generateSecretValue();
  await kube.apply(
    authSecretManifest({
      secretName: o.authSecretName,
      namespace,
      labels,
      adminPassword: admin,
      flaskSecretKey: flaskSecretKey || generateSecretValue(),
      config: basicAuthIni({
        database: o.authDatabase,
        adminPassword: admin,
        defaultPermission: o.defaultPermission,
      }),
    }),
    { dryRun: false },
  );
  const healthSecret = await readManagedSecret(kube, {
    namespace,
    secretName: o.healthSecretName,
    field: 'healthSecretName',
  });
  const healthPassword = healthSecret?.[HEALTH_SECRET_KEYS.password];
  if (!healthPassword) {
    o.log(
      `Generating the login of the health-check user ${HEALTH_USERNAME} into Secret ${namespace}/${o.healthSecretName}`,
    );
  }
  const health = healthPassword || generateSecretValue();
  await kube.apply(
    healthSecretManifest({
      secretName: o.healthSecretName,
      namespace,
      labels,
      password: health,
    }),
    { dryRun: false },
  );
  return [
    { username: ADMIN_USERNAME, password: admin },
    { username: HEALTH_USERNAME, password: health },
  ];
}
