import type { V1Deployment } from '@kubernetes/client-node';
import {
  AUTH_MODE_BASIC_AUTH,
  DEPLOYMENT_ANNOTATION_AUTH_MODE,
} from '@stateful-mlflow/plugin-mlflow-common';
import { createHash } from 'node:crypto';
import {
  AUTH_SECRET_KEYS,
  HEALTH_SECRET_KEYS,
  readManagedSecret,
} from './authSecrets';
import { MlflowKubernetesApi } from './kubernetesApi';
import { MlflowAuth } from './renderMlflowManifests';
import type { MlflowLogin } from '../tracking/healthUser';

/** What the deploy step knows about sign-in before it applies anything. */
export type AuthState = {
  /** The renderer's auth, with the hash of basic_auth.ini so a changed config rolls the pods. */
  auth: MlflowAuth;
  secretName?: string;
  /** basic-auth, but the auth Secret is absent or incomplete. */
  secretMissing: boolean;
  /** The Deployment exists and did not require sign-in: this run turns it on. */
  turningOn: boolean;
  /** The admin and health logins, read when needed; never logged. */
  logins(): Promise<{ admin: MlflowLogin; health: MlflowLogin }>;
};

/** Reads the auth Secret (its completeness and config hash) and the Deployment's current mode. */
export async function readAuthState(o: {
  api: MlflowKubernetesApi;
  namespace: string;
  deploymentName: string;
  auth: MlflowAuth;
  /** False when nothing is applied: nothing is read either. */
  read: boolean;
}): Promise<AuthState> {
  const { api, namespace, auth } = o;
  const noLogins = async () => {
    throw new Error('No sign-in: the instance allows anonymous access');
  };
  if (auth.mode !== AUTH_MODE_BASIC_AUTH || !o.read) {
    return {
      auth,
      secretMissing: false,
      turningOn: false,
      logins: noLogins,
    };
  }
  const authRef = {
    namespace,
    secretName: auth.secretName,
    field: 'authSecretName',
  };
  const values = await readManagedSecret(api, authRef);
  const complete = Object.values(AUTH_SECRET_KEYS).every(k => values?.[k]);
  const deployment = await api.read<V1Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: o.deploymentName,
    namespace,
  });
  const previousMode =
    deployment?.metadata?.annotations?.[DEPLOYMENT_ANNOTATION_AUTH_MODE];
  return {
    auth: {
      ...auth,
      configHash: complete
        ? createHash('sha256')
            .update(values![AUTH_SECRET_KEYS.config])
            .digest('hex')
            .slice(0, 10)
        : undefined,
    },
    secretName: auth.secretName,
    secretMissing: !complete,
    turningOn: !!deployment && previousMode !== AUTH_MODE_BASIC_AUTH,
    async logins() {
      const admin = await readManagedSecret(api, authRef);
      const health = await readManagedSecret(api, {
        namespace,
        secretName: auth.healthSecretName,
        field: 'healthSecretName',
      });
      if (!admin || !health) {
        throw new Error(
          `Secret ${namespace}/${
            admin ? auth.healthSecretName : auth.secretName
          } does not exist: run mlflow:database:create for this instance`,
        );
      }
      return {
        admin: {
          username: admin[AUTH_SECRET_KEYS.adminUsername],
          password: admin[AUTH_SECRET_KEYS.adminPassword],
        },
        health: {
          username: health[HEALTH_SECRET_KEYS.username],
          password: health[HEALTH_SECRET_KEYS.password],
        },
      };
    },
  };
}
