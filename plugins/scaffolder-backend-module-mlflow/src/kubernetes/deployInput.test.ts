import { InputError } from '@backstage/errors';
import {
  BACKEND_STORE_URI_KEY,
  resolveInstanceNames,
} from '@stateful-mlflow/plugin-mlflow-common';
import { DeployInput, validateDeployInput } from './deployInput';

const input: DeployInput = {
  name: 'demo',
  cluster: 'local',
  image: 'ghcr.io/acme/mlflow:3.1.0',
  hostname: 'demo.mlflow.localhost',
  environment: 'dev',
  replicas: 2,
  workers: 2,
  artifactsDestination: 's3://acme-mlflow-demo/artifacts',
  allowEphemeralStorage: false,
  allowAnonymousAccess: false,
  dbMaxConnections: 100,
  cpuRequest: '250m',
  memoryRequest: '512Mi',
  memoryLimit: '1Gi',
  proxyBodySize: '5g',
  proxyTimeoutSeconds: 600,
  ingressControllerNamespace: 'ingress-nginx',
  allowedClientNamespaces: [],
  extraEnv: {},
  runAsUser: 1000,
  timeoutSeconds: 900,
};

describe('validateDeployInput', () => {
  it('fills the default names from the resolver, blank inputs counting as absent', () => {
    const { manifestOptions, ephemeralReasons } = validateDeployInput({
      ...input,
      namespace: '',
      serviceAccountName: '',
      databaseSecretName: '',
    });
    const names = resolveInstanceNames({ name: 'demo' });
    expect(manifestOptions).toMatchObject({
      namespace: names.namespace,
      serviceAccountName: names.serviceAccountName,
      backendStore: { kind: 'secret', secretName: names.databaseSecretName },
      migrationTimeoutSeconds: 900,
      auth: {
        mode: 'basic-auth',
        secretName: names.authSecretName,
        healthSecretName: names.healthSecretName,
      },
    });
    expect(ephemeralReasons).toEqual([]);
  });

  it.each([
    ['hostname', '169.254.169.254', /Invalid hostname .*IP address/],
    ['hostname', 'demo', /Invalid hostname/],
    ['cpuRequest', 'a lot', /Invalid cpuRequest \(Kubernetes quantity\)/],
    ['proxyBodySize', '5 GB', /Invalid proxyBodySize/],
    ['roleArn', 'arn:aws:iam::123:role/x', /Invalid roleArn/],
    ['system', '-x-', /Invalid system/],
    ['tlsClusterIssuer', 'Lets_Encrypt', /Invalid tlsClusterIssuer/],
    ['authSecretName', 'Auth', /Invalid authSecretName/],
    ['extraEnv', { '1X': 'y' }, /Invalid extraEnv key/],
    [
      'extraEnv',
      { [BACKEND_STORE_URI_KEY]: 'sqlite:///x' },
      /comes from the database Secret/,
    ],
    [
      'allowedClientNamespaces',
      ['ok', 'Not_OK'],
      /allowedClientNamespaces\[1\]/,
    ],
  ])('refuses %s %j naming the field', (field, value, message) => {
    expect(() => validateDeployInput({ ...input, [field]: value })).toThrow(
      message,
    );
  });

  it('names the scheme of an inline database URI but never the URI itself', () => {
    const error = (() => {
      try {
        return validateDeployInput({
          ...input,
          allowEphemeralStorage: true,
          backendStoreUri: 'postgresql://u:secret@db:5432/mlflow',
        });
      } catch (e) {
        return e as Error;
      }
    })() as Error;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/received a postgresql URI/);
    expect(error.message).not.toContain('secret@');
  });

  it('lists every reason the storage is ephemeral when it is allowed', () => {
    const { manifestOptions, ephemeralReasons } = validateDeployInput({
      ...input,
      allowEphemeralStorage: true,
      allowAnonymousAccess: true,
      backendStoreUri: 'sqlite:////tmp/mlflow.db',
      artifactsDestination: '/tmp/artifacts',
    });
    expect(manifestOptions.backendStore).toEqual({
      kind: 'ephemeral',
      uri: 'sqlite:////tmp/mlflow.db',
    });
    expect(ephemeralReasons).toEqual([
      "artifacts on the pod's local disk (/tmp/artifacts)",
      'a sqlite backend store in the pod (sqlite:////tmp/mlflow.db)',
    ]);
  });

  it('turns sign-in off only when asked, never in prod, naming the field and the value', () => {
    expect(
      validateDeployInput({ ...input, allowAnonymousAccess: true })
        .manifestOptions.auth,
    ).toEqual({ mode: 'anonymous' });
    expect(() =>
      validateDeployInput({
        ...input,
        environment: 'prod',
        allowAnonymousAccess: true,
      }),
    ).toThrow(
      /^Invalid allowAnonymousAccess: received true\. Accepted: false in prod/,
    );
  });

  it('asks for anonymous access with an inline sqlite store, which has no sign-in database', () => {
    expect(() =>
      validateDeployInput({
        ...input,
        allowEphemeralStorage: true,
        backendStoreUri: 'sqlite:////tmp/mlflow.db',
      }),
    ).toThrow(
      /^Invalid allowAnonymousAccess: received false\. Accepted: true with an inline backendStoreUri/,
    );
  });
});
