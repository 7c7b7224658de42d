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
  authDatabaseName: 'mlflow_demo_auth',
};
const ref = { namespace: 'mlflow-demo', secretName: 'demo-db' };

describe('databaseSecret', () => {
  it('keeps the password out of the URIs (PGPASSWORD holds it) and URL-encodes the user', () => {
    expect(
      backendStoreUri({ ...credentials, username: 'a@b', databaseName: 'db' }),
    ).toBe('postgresql://a%40b@db.example:5432/db?sslmode=require');
    const values = databaseSecretManifest({
      ...ref,
      labels: {},
      credentials,
    }).stringData!;
    expect(values).toMatchObject({
      MLFLOW_BACKEND_STORE_URI:
        'postgresql://mlflow_demo@db.example:5432/mlflow_demo?sslmode=require',
      MLFLOW_AUTH_DATABASE_URI:
        'postgresql://mlflow_demo@db.example:5432/mlflow_demo_auth?sslmode=require',
      PGPASSWORD: 'p:w/d@#?',
    });
    const withPassword = Object.entries(values)
      .filter(([, value]) => value.includes(credentials.password))
      .map(([key]) => key);
    expect(withPassword).toEqual(['PGPASSWORD']);
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
