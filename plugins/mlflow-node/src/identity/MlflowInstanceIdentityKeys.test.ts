import { ConfigReader } from '@backstage/config';
import { V1Deployment } from '@kubernetes/client-node';
import { MlflowInstanceIdentityKeys } from './MlflowInstanceIdentityKeys';

const KEY = 'current-key-0123456789-0123456789';
const OLD_KEY = 'previous-key-0123456789-012345678';

function keys(identity: Record<string, string | string[]> | undefined) {
  return MlflowInstanceIdentityKeys.fromConfig(
    new ConfigReader(identity ? { mlflow: { identity } } : {}),
  );
}

const deployment: V1Deployment = {
  metadata: {
    name: 'demo',
    namespace: 'mlflow-demo',
    annotations: { 'mlflow.org/owner': 'group:default/ml-team' },
  },
};

describe('MlflowInstanceIdentityKeys', () => {
  it('signs with the signing key and verifies with it', () => {
    const k = keys({ signingKey: KEY });
    expect(k.canSign()).toBe(true);
    const signed = k.signDeployment(deployment, 'local');
    expect(k.verifyDeployment(signed, 'local')?.owner).toBe(
      'group:default/ml-team',
    );
  });

  it('verifies a signature of a previous key during a rotation', () => {
    const signed = keys({ signingKey: OLD_KEY }).signDeployment(
      deployment,
      'local',
    );
    expect(keys({ signingKey: KEY }).verifyDeployment(signed, 'local')).toBe(
      undefined,
    );
    expect(
      keys({
        signingKey: KEY,
        previousSigningKeys: [OLD_KEY],
      }).verifyDeployment(signed, 'local'),
    ).toBeDefined();
  });

  it('without keys, cannot sign and verifies nothing', () => {
    const k = keys(undefined);
    expect(k.canSign()).toBe(false);
    expect(() => k.signDeployment(deployment, 'local')).toThrow(
      /mlflow\.identity\.signingKey is not set/,
    );
    const signed = keys({ signingKey: KEY }).signDeployment(
      deployment,
      'local',
    );
    expect(k.verifyDeployment(signed, 'local')).toBeUndefined();
  });

  it('refuses a short key naming the field and its length, never its value', () => {
    expect(() => keys({ signingKey: 'short-secret' })).toThrow(
      'Invalid mlflow.identity.signingKey: received a value of 12 characters, but it must be a random string of at least 32 characters',
    );
    expect(() => keys({ signingKey: 'short-secret' })).not.toThrow(
      /short-secret/,
    );
    expect(() =>
      keys({ signingKey: KEY, previousSigningKeys: [KEY, 'x'] }),
    ).toThrow(/Invalid mlflow\.identity\.previousSigningKeys\[1\]/);
  });
});
