import { V1Deployment, V1Job } from '@kubernetes/client-node';
import { createCheckpointingContext } from '../__testUtils__/createCheckpointingContext';
import { FakeKubernetesApi } from '../__testUtils__/FakeKubernetesApi';
import {
  fakeMlflowAuthApi,
  seedAuthSecrets,
} from '../__testUtils__/authFixtures';
import { instanceLabels, testTenancy } from '../__testUtils__/tenancy';
import { createKubernetesDeployAction } from './kubernetesDeploy';
import { withInputDefaults } from './withInputDefaults';

const input = {
  name: 'demo',
  cluster: 'local',
  image: 'ghcr.io/acme/mlflow:v3.16.1',
  hostname: 'demo.mlflow.localhost',
  region: 'eu-west-1',
  artifactsDestination: 's3://acme-mlflow-demo/artifacts',
  rdsInstanceId: 'mlflow-demo',
  databaseName: 'mlflow_demo',
};

/** The upgrade's deploy step: a failed migration of the new image leaves the running server alone. */
describe('mlflow:kubernetes:deploy as the upgrade runs it', () => {
  it('keeps the Deployment on the old image when the new migration fails, and names the failure; only a first start migrates both databases side by side', async () => {
    const cluster = new FakeKubernetesApi();
    const labels = instanceLabels('demo');
    cluster.objects.set('Namespace//mlflow-demo', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'mlflow-demo', labels },
    });
    cluster.objects.set('Secret/mlflow-demo/demo-db', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'demo-db', namespace: 'mlflow-demo', labels },
    });
    seedAuthSecrets(cluster, { name: 'demo', labels });
    const action = withInputDefaults(
      createKubernetesDeployAction({
        kubernetes: () => cluster,
        pollIntervalMs: 1,
        ...testTenancy(),
        fetch: fakeMlflowAuthApi().fetch,
      }),
    );
    await action.handler(createCheckpointingContext(action, { input }).ctx);
    const image = () =>
      (cluster.stored('Deployment')[0] as V1Deployment).spec?.template.spec
        ?.containers[0].image;
    expect(image()).toBe('ghcr.io/acme/mlflow:v3.16.1');
    const jobPods = () =>
      (cluster.stored('Job') as V1Job[]).map(j => ({
        image: j.spec!.template.spec!.containers[0].image,
        inits: (j.spec!.template.spec!.initContainers ?? []).map(c => c.name),
        containers: j.spec!.template.spec!.containers.map(c => c.name),
      }));
    // The first start migrates both new databases side by side.
    expect(jobPods()).toEqual([
      {
        image: 'ghcr.io/acme/mlflow:v3.16.1',
        inits: [],
        containers: ['db-upgrade', 'auth-db-upgrade'],
      },
    ]);

    cluster.jobOutcome = 'fail';
    const upgrade = createCheckpointingContext(action, {
      input: {
        ...input,
        image: 'ghcr.io/acme/mlflow:v3.17.2',
        preUpgradeSnapshotId: 'mlflow-demo-pre-upgrade-20261202t101500z',
      },
    });
    await expect(action.handler(upgrade.ctx)).rejects.toThrow(
      /database migration Job mlflow-demo\/demo-db-upgrade-\w+ failed.* The Deployment was not changed: the old pods keep serving. The data from before this upgrade is in RDS snapshot mlflow-demo-pre-upgrade-20261202t101500z of mlflow-demo \(eu-west-1\). .*restore-db-instance-from-db-snapshot --db-snapshot-identifier mlflow-demo-pre-upgrade-20261202t101500z .*"Restore from snapshot" set to mlflow-demo-pre-upgrade-20261202t101500z/,
    );
    expect(image()).toBe('ghcr.io/acme/mlflow:v3.16.1');
    // The upgrade's Job migrates the sign-in database only after the tracking store succeeded,
    // so its failure left the sign-in database as the running 3.16.1 server knows it.
    expect(jobPods()[1]).toEqual({
      image: 'ghcr.io/acme/mlflow:v3.17.2',
      inits: ['db-upgrade'],
      containers: ['auth-db-upgrade'],
    });
    expect(
      upgrade.logs.some(l =>
        l.message.startsWith('Applying Deployment mlflow-demo/demo'),
      ),
    ).toBe(false);
  });
});
