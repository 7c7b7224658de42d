import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { V1Deployment } from '@kubernetes/client-node';
import {
  MlflowInstanceIdentity,
  signMlflowDeployment,
  verifyMlflowDeployment,
} from './instanceIdentity';

/** Shortest accepted key: 32 characters of a random string give the HMAC its full strength. */
const MIN_SIGNING_KEY_LENGTH = 32;

function checkKey(value: string, field: string): string {
  if (value.trim().length < MIN_SIGNING_KEY_LENGTH) {
    // The value is a secret: say how long it is, never what it is.
    throw new InputError(
      `Invalid ${field}: received a value of ${
        value.trim().length
      } characters, but it must be a random string of at least ${MIN_SIGNING_KEY_LENGTH} characters (e.g. openssl rand -base64 48).`,
    );
  }
  return value;
}

/**
 * The operator's keys for instance identities, `mlflow.identity.*` (declared in config.d.ts as
 * secrets). The deploy action signs with `signingKey`; the catalog accepts it and any of
 * `previousSigningKeys` while a key is being rotated. The keys never leave this object.
 *
 * @public
 */
export class MlflowInstanceIdentityKeys {
  static fromConfig(config: Config): MlflowInstanceIdentityKeys {
    const signingKey = config.getOptionalString('mlflow.identity.signingKey');
    const previous =
      config.getOptionalStringArray('mlflow.identity.previousSigningKeys') ??
      [];
    return new MlflowInstanceIdentityKeys(
      signingKey === undefined
        ? undefined
        : checkKey(signingKey, 'mlflow.identity.signingKey'),
      previous.map((key, i) =>
        checkKey(key, `mlflow.identity.previousSigningKeys[${i}]`),
      ),
    );
  }

  private constructor(
    private readonly signingKey: string | undefined,
    private readonly previousKeys: string[],
  ) {}

  /** Whether a signing key is configured; without one nothing can be signed or verified. */
  canSign(): boolean {
    return this.signingKey !== undefined;
  }

  /** The Deployment with its `mlflow.org/identity-signature` annotation. */
  signDeployment(deployment: V1Deployment, cluster: string): V1Deployment {
    if (this.signingKey === undefined) {
      throw new InputError(
        'mlflow.identity.signingKey is not set: the deploy action cannot sign the instance, so the catalog would not trust it. Set it to a random string of at least 32 characters.',
      );
    }
    return signMlflowDeployment(deployment, cluster, this.signingKey);
  }

  /** The identity of a Deployment listed in `cluster` when its signature verifies, else undefined. */
  verifyDeployment(
    deployment: V1Deployment,
    cluster: string,
  ): MlflowInstanceIdentity | undefined {
    const keys = [
      ...(this.signingKey === undefined ? [] : [this.signingKey]),
      ...this.previousKeys,
    ];
    return keys.length > 0
      ? verifyMlflowDeployment(deployment, cluster, keys)
      : undefined;
  }
}
