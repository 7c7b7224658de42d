import { createKubernetesDeployAction } from '../actionFactories';
import { withInputDefaults } from '../actions/withInputDefaults';
import { fakeMlflowAuthApi, seedAuthSecrets } from './authFixtures';
import { FakeKubernetesApi } from './FakeKubernetesApi';
import { testTenancy } from './tenancy';

/** The inputs of instance demo that the unit tests of mlflow:kubernetes:deploy start from. */
export const input = {
  name: 'demo',
  cluster: 'local',
  image: 'ghcr.io/acme/mlflow:3.1.0',
  hostname: 'demo.mlflow.localhost',
  region: 'eu-west-1',
  artifactsDestination: 's3://acme-mlflow-demo/artifacts',
  rdsInstanceId: 'mlflow-demo',
  databaseName: 'mlflow_demo',
};

/** The identity of instance demo, as the actions write it. */
export const OURS = {
  'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow',
  'app.kubernetes.io/instance': 'demo',
};

/** A cluster where the database step ran for demo: its namespace, database and sign-in Secrets. */
export function clusterWithSecret() {
  const cluster = new FakeKubernetesApi();
  cluster.objects.set('Namespace//mlflow-demo', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'mlflow-demo', labels: OURS },
  });
  cluster.objects.set('Secret/mlflow-demo/demo-db', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'demo-db', namespace: 'mlflow-demo', labels: OURS },
  });
  seedAuthSecrets(cluster, { name: 'demo', labels: OURS });
  return cluster;
}

/** The action as the module registers it: schema defaults filled in for absent inputs. */
export function deployAction(cluster: FakeKubernetesApi, pollIntervalMs = 1) {
  return withInputDefaults(
    createKubernetesDeployAction({
      kubernetes: () => cluster,
      pollIntervalMs,
      ...testTenancy(),
      fetch: fakeMlflowAuthApi().fetch,
    }),
  );
}
