import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  backendStoreUri,
  databaseSecretManifest,
  readDatabaseSecret,
} from './databaseSecret';

const credentials = {
  username: 'mlflow_demo',
  password: 'p:w/d@#?',
  host: 'db.example',
  port: 5432,
  databaseName: 'mlflow_demo',
  sslMode: 'require' as const,
};
const ref = { namespace: 'mlflow-demo', secretName: 'demo-db' };

describe('databaseSecret', () => {
  it('URL-encodes user and password in the backend store URI', () => {
    expect(
      backendStoreUri({ ...credentials, username: 'a@b', databaseName: 'db' }),
    ).toBe(
      'postgresql://a%40b:p%3Aw%2Fd%40%23%3F@db.example:5432/db?sslmode=require',
    );
  });

  it('reads back the login of a Secret it wrote', async () => {
    const kube = new FakeKubernetesApi();
    await kube.apply(
      databaseSecretManifest({
        ...ref,
        labels: { 'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow' },
        credentials,
      }),
      { dryRun: false },
    );
    await expect(
      readDatabaseSecret(kube, { ...ref, field: 'secretName' }),
    ).resolves.toEqual({ username: 'mlflow_demo', password: 'p:w/d@#?' });
  });

  it('is undefined when the Secret does not exist', async () => {
    await expect(
      readDatabaseSecret(new FakeKubernetesApi(), {
        ...ref,
        field: 'secretName',
      }),
    ).resolves.toBeUndefined();
  });

  it('refuses a Secret of that name that it did not write, naming the field', async () => {
    const kube = new FakeKubernetesApi();
    await kube.apply(
      databaseSecretManifest({ ...ref, labels: {}, credentials }),
      { dryRun: false },
    );
    await expect(
      readDatabaseSecret(kube, { ...ref, field: 'secretName' }),
    ).rejects.toThrow(
      /^Invalid secretName: received "demo-db", but Secret mlflow-demo\/demo-db already exists and is not managed/,
    );
  });
});
