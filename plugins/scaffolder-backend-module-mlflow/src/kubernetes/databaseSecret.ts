import { InputError } from '@backstage/errors';
import type { V1Secret } from '@kubernetes/client-node';
import {
  BACKEND_STORE_URI_KEY,
  LABEL_APP_MANAGED_BY,
  MANAGED_BY_STATEFUL_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import type { SslMode } from '../database/postgresConnection';
import { MlflowKubernetesApi } from './kubernetesApi';
import { passwordlessUri } from './authSecrets';
import { AUTH_DATABASE_URI_KEY } from './renderMlflowManifests';

/** What the tracking server needs to reach its database. */
export type DatabaseCredentials = {
  username: string;
  password: string;
  host: string;
  port: number;
  databaseName: string;
  sslMode: SslMode;
  /** Database of MLflow's basic-auth app, on the same server, owned by the same role. */
  authDatabaseName: string;
};

/**
 * The backend store URI MLflow reads. Without the password: libpq (psycopg) takes it from
 * PGPASSWORD, so the URI may appear in an argument (`mlflow db upgrade <uri>`) without leaking it.
 */
export function backendStoreUri(c: DatabaseCredentials): string {
  return passwordlessUri(c);
}

/** The Secret holding the credentials: the URIs for MLflow and libpq's variables (PGPASSWORD). */
export function databaseSecretManifest(options: {
  secretName: string;
  namespace: string;
  labels: Record<string, string>;
  credentials: DatabaseCredentials;
}): V1Secret {
  const c = options.credentials;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: options.secretName,
      namespace: options.namespace,
      labels: options.labels,
    },
    type: 'Opaque',
    stringData: {
      [BACKEND_STORE_URI_KEY]: backendStoreUri(c),
      [AUTH_DATABASE_URI_KEY]: passwordlessUri({
        ...c,
        databaseName: c.authDatabaseName,
      }),
      PGUSER: c.username,
      PGPASSWORD: c.password,
      PGDATABASE: c.databaseName,
      PGHOST: c.host,
      PGPORT: String(c.port),
      PGSSLMODE: c.sslMode,
    },
  };
}

/**
 * Reads the credentials Secret. Undefined when it does not exist; an InputError naming `field` when
 * it exists but was not written by these actions (it is never overwritten).
 */
export async function readDatabaseSecret(
  kube: MlflowKubernetesApi,
  options: { namespace: string; secretName: string; field: string },
): Promise<{ username?: string; password?: string } | undefined> {
  const { namespace, secretName } = options;
  const secret = await kube.read<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    name: secretName,
    namespace,
  });
  if (!secret) {
    return undefined;
  }
  if (
    secret.metadata?.labels?.[LABEL_APP_MANAGED_BY] !==
    MANAGED_BY_STATEFUL_MLFLOW
  ) {
    throw new InputError(
      `Invalid ${options.field}: received "${secretName}", but Secret ${namespace}/${secretName} already exists and is not managed by Backstage's MLflow actions. It is not overwritten: choose another ${options.field}.`,
    );
  }
  const decode = (value: string | undefined) =>
    value === undefined ? undefined : Buffer.from(value, 'base64').toString();
  return {
    username: decode(secret.data?.PGUSER),
    password: decode(secret.data?.PGPASSWORD),
  };
}
