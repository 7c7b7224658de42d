import { readMlflowInstance } from './readMlflowInstance';
import {
  helmDeployment,
  managedDeployment,
  mlflowIngress,
} from './testDeployments';

describe('readMlflowInstance', () => {
  it('reads every fact of a Deployment written by the deploy action from its labels and annotations', () => {
    const instance = readMlflowInstance('local', managedDeployment('demo'), []);
    expect(instance).toEqual({
      cluster: 'local',
      namespace: 'mlflow-demo',
      deploymentName: 'demo',
      instanceName: 'demo',
      adopted: false,
      createdAt: '2026-01-01T00:00:00.000Z',
      kubernetesId: 'demo',
      hasInstanceLabel: true,
      trackingUrl: 'http://demo.mlflow.localhost',
      awsRegion: 'eu-west-1',
      rdsInstanceId: 'demo-db',
      artifactRoot: 's3://demo-artifacts/mlflow',
      databaseName: 'mlflow',
      owner: 'group:default/ml-team',
      system: 'ml-platform',
      description: 'Tracking server demo',
      environment: 'prod',
    });
  });

  it('does not guess from the pod spec of a managed Deployment', () => {
    const deployment = managedDeployment('demo', {
      annotations: { 'mlflow.org/s3-artifact-root': '' },
    });
    deployment.spec!.template.spec!.containers[0].args = [
      '--default-artifact-root=s3://other/bucket',
    ];
    expect(
      readMlflowInstance('local', deployment, []).artifactRoot,
    ).toBeUndefined();
  });

  it('adopts a Helm install: artifact root from the flag, backend store from a Secret stays unknown', () => {
    const instance = readMlflowInstance(
      'local',
      helmDeployment('team-a', {
        args: [
          'server',
          '--backend-store-uri=$(MLFLOW_BACKEND_STORE_URI)',
          '--default-artifact-root',
          's3://team-a-mlflow/artifacts',
        ],
        env: [{ name: 'MLFLOW_BACKEND_STORE_URI', secret: 'team-a-db' }],
      }),
      [mlflowIngress('team-a', 'ml', 'mlflow.team-a.example.com', true)],
    );
    expect(instance).toMatchObject({
      instanceName: 'team-a',
      deploymentName: 'team-a-mlflow',
      adopted: true,
      hasInstanceLabel: true,
      artifactRoot: 's3://team-a-mlflow/artifacts',
      trackingUrl: 'https://mlflow.team-a.example.com',
    });
    expect(instance.kubernetesId).toBeUndefined();
    expect(instance.rdsInstanceId).toBeUndefined();
    expect(instance.databaseName).toBeUndefined();
    expect(instance.owner).toBeUndefined();
  });

  it('reads the RDS instance, region and database of a literal backend store URI but never its credentials', () => {
    const instance = readMlflowInstance(
      'local',
      helmDeployment('team-b', {
        env: [
          {
            name: 'MLFLOW_BACKEND_STORE_URI',
            value:
              'postgresql+psycopg2://mlflow:s3cr3t-pw@team-b.c9akciq32.eu-central-1.rds.amazonaws.com:5432/mlflow_b',
          },
          {
            name: 'MLFLOW_ARTIFACTS_DESTINATION',
            value: 's3://team-b-artifacts',
          },
        ],
      }),
      [],
    );
    expect(instance).toMatchObject({
      rdsInstanceId: 'team-b',
      awsRegion: 'eu-central-1',
      databaseName: 'mlflow_b',
      artifactRoot: 's3://team-b-artifacts',
    });
    expect(JSON.stringify(instance)).not.toContain('s3cr3t-pw');
    expect(instance.trackingUrl).toBeUndefined();
  });

  it('reads flags passed through a shell wrapper and ignores non-S3 artifact roots', () => {
    const deployment = helmDeployment('shell', {
      env: [{ name: 'AWS_DEFAULT_REGION', value: 'us-east-1' }],
    });
    deployment.spec!.template.spec!.containers[0].command = ['sh', '-c'];
    deployment.spec!.template.spec!.containers[0].args = [
      'mlflow server --backend-store-uri sqlite:///mlflow.db --default-artifact-root /mnt/artifacts',
    ];
    const instance = readMlflowInstance('local', deployment, []);
    expect(instance.artifactRoot).toBeUndefined();
    expect(instance.rdsInstanceId).toBeUndefined();
    expect(instance.awsRegion).toBe('us-east-1');
  });

  it('falls back to the Deployment name without an instance label', () => {
    const deployment = helmDeployment('x');
    delete deployment.metadata!.labels!['app.kubernetes.io/instance'];
    const instance = readMlflowInstance('local', deployment, []);
    expect(instance.instanceName).toBe('x-mlflow');
    expect(instance.hasInstanceLabel).toBe(false);
  });
});
