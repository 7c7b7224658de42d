import { V1Deployment } from '@kubernetes/client-node';
import {
  canonicalInstanceIdentity,
  instanceIdentityOfDeployment,
  MlflowInstanceIdentity,
  signInstanceIdentity,
  signMlflowDeployment,
  verifyInstanceIdentity,
  verifyMlflowDeployment,
} from './instanceIdentity';

const KEY = 'k'.repeat(40);
const OTHER_KEY = 'o'.repeat(40);

const identity: MlflowInstanceIdentity = {
  cluster: 'local',
  namespace: 'mlflow-demo',
  deploymentName: 'demo',
  instanceName: 'demo',
  owner: 'group:default/ml-team',
  trackingUrl: 'http://demo.mlflow.localhost',
  awsRegion: 'eu-west-1',
  rdsInstanceId: 'demo-db',
};

function deployment(): V1Deployment {
  return {
    metadata: {
      name: 'demo',
      namespace: 'mlflow-demo',
      labels: {
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': 'demo',
      },
      annotations: {
        'mlflow.org/owner': 'group:default/ml-team',
        'mlflow.org/tracking-url': 'http://demo.mlflow.localhost',
        'mlflow.org/aws-region': 'eu-west-1',
        'mlflow.org/aws-account-id': '123456789012',
        'mlflow.org/rds-instance-id': 'demo-db',
        'mlflow.org/s3-artifact-root': 's3://demo-artifacts/mlflow',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
      },
    },
  };
}

describe('signInstanceIdentity / verifyInstanceIdentity', () => {
  it('verifies a signature made over the same identity with the same key', () => {
    const signature = signInstanceIdentity(identity, KEY);
    expect(signature).toMatch(/^v1\.[A-Za-z0-9_-]{43}$/);
    expect(verifyInstanceIdentity(identity, signature, [KEY])).toBe(true);
  });

  it.each<[string, Partial<MlflowInstanceIdentity>]>([
    ['another namespace', { namespace: 'team-b' }],
    ['another cluster', { cluster: 'eks' }],
    ['another Deployment name', { deploymentName: 'demo-2' }],
    ['another instance name', { instanceName: 'prod' }],
    ['another owner', { owner: 'user:default/mallory' }],
    ['an added system', { system: 'system:default/other' }],
    ['another tracking URL', { trackingUrl: 'http://evil.example' }],
    ['another RDS instance', { rdsInstanceId: 'victim-db' }],
    ['an added AWS account', { awsAccountId: '210987654321' }],
    ['a removed fact', { awsRegion: undefined }],
  ])('rejects the signature for %s', (_, change) => {
    const signature = signInstanceIdentity(identity, KEY);
    expect(
      verifyInstanceIdentity({ ...identity, ...change }, signature, [KEY]),
    ).toBe(false);
  });

  it('rejects a signature made with another key, and accepts it once that key is listed', () => {
    const signature = signInstanceIdentity(identity, OTHER_KEY);
    expect(verifyInstanceIdentity(identity, signature, [KEY])).toBe(false);
    expect(verifyInstanceIdentity(identity, signature, [KEY, OTHER_KEY])).toBe(
      true,
    );
  });

  it.each([undefined, '', 'v1.', 'v2.abc', 'garbage', 'v1.AAAA'])(
    'rejects the malformed signature %p',
    signature => {
      expect(verifyInstanceIdentity(identity, signature, [KEY])).toBe(false);
    },
  );

  it('rejects everything when no key is given', () => {
    const signature = signInstanceIdentity(identity, KEY);
    expect(verifyInstanceIdentity(identity, signature, [])).toBe(false);
  });

  it('encodes identities unambiguously: moving text between fields changes the encoding', () => {
    const a = canonicalInstanceIdentity({
      ...identity,
      namespace: 'a/b',
      deploymentName: 'c',
    });
    const b = canonicalInstanceIdentity({
      ...identity,
      namespace: 'a',
      deploymentName: 'b/c',
    });
    expect(a).not.toEqual(b);
    expect(
      canonicalInstanceIdentity({ ...identity, system: undefined }),
    ).not.toEqual(canonicalInstanceIdentity({ ...identity, system: '' }));
  });
});

describe('signMlflowDeployment / verifyMlflowDeployment', () => {
  it('reads the place from metadata and the facts from the annotations', () => {
    expect(instanceIdentityOfDeployment(deployment(), 'local')).toEqual({
      cluster: 'local',
      namespace: 'mlflow-demo',
      deploymentName: 'demo',
      instanceName: 'demo',
      owner: 'group:default/ml-team',
      trackingUrl: 'http://demo.mlflow.localhost',
      awsRegion: 'eu-west-1',
      awsAccountId: '123456789012',
      rdsInstanceId: 'demo-db',
      s3ArtifactRoot: 's3://demo-artifacts/mlflow',
    });
  });

  it('signs a copy and verifies it where it was signed', () => {
    const original = deployment();
    const signed = signMlflowDeployment(original, 'local', KEY);
    expect(
      original.metadata?.annotations?.['mlflow.org/identity-signature'],
    ).toBeUndefined();
    expect(
      signed.metadata?.annotations?.['mlflow.org/identity-signature'],
    ).toMatch(/^v1\./);
    expect(verifyMlflowDeployment(signed, 'local', [KEY])).toMatchObject({
      owner: 'group:default/ml-team',
      rdsInstanceId: 'demo-db',
    });
  });

  it('does not verify a verbatim copy in another namespace or cluster', () => {
    const signed = signMlflowDeployment(deployment(), 'local', KEY);
    const copy: V1Deployment = {
      ...signed,
      metadata: { ...signed.metadata, namespace: 'attacker' },
    };
    expect(verifyMlflowDeployment(copy, 'local', [KEY])).toBeUndefined();
    expect(verifyMlflowDeployment(signed, 'eks', [KEY])).toBeUndefined();
  });

  it('does not verify after a signed annotation or the instance label changed', () => {
    const signed = signMlflowDeployment(deployment(), 'local', KEY);
    const owner: V1Deployment = {
      ...signed,
      metadata: {
        ...signed.metadata,
        annotations: {
          ...signed.metadata?.annotations,
          'mlflow.org/owner': 'user:default/mallory',
        },
      },
    };
    const relabelled: V1Deployment = {
      ...signed,
      metadata: {
        ...signed.metadata,
        labels: {
          ...signed.metadata?.labels,
          'app.kubernetes.io/instance': 'prod',
        },
      },
    };
    expect(verifyMlflowDeployment(owner, 'local', [KEY])).toBeUndefined();
    expect(verifyMlflowDeployment(relabelled, 'local', [KEY])).toBeUndefined();
  });

  it('still verifies when an unsigned annotation changes (e.g. kubectl bookkeeping)', () => {
    const signed = signMlflowDeployment(deployment(), 'local', KEY);
    signed.metadata!.annotations!['deployment.kubernetes.io/revision'] = '7';
    expect(verifyMlflowDeployment(signed, 'local', [KEY])).toBeDefined();
  });
});
