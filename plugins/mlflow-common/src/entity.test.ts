import { Entity } from '@backstage/catalog-model';
import {
  getMlflowEntityInfo,
  isMlflowAvailable,
  parseMlflowAuthMode,
  parseS3Uri,
} from './entity';

const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'mlflow-prod', annotations },
  spec: {},
});

describe('entity helpers', () => {
  it('isMlflowAvailable needs the tracking URL annotation', () => {
    expect(isMlflowAvailable(entity({}))).toBe(false);
    expect(
      isMlflowAvailable(
        entity({ 'mlflow.org/tracking-url': 'https://mlflow.example.com' }),
      ),
    ).toBe(true);
  });

  it('parseS3Uri splits bucket and prefix and refuses other schemes', () => {
    expect(parseS3Uri('s3://bucket/mlflow/artifacts/')).toEqual({
      bucket: 'bucket',
      prefix: 'mlflow/artifacts',
    });
    expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Uri('file:///tmp/mlruns')).toBeUndefined();
  });

  it('getMlflowEntityInfo reads every annotation', () => {
    expect(
      getMlflowEntityInfo(
        entity({
          'mlflow.org/tracking-url': 'https://mlflow.example.com',
          'mlflow.org/aws-region': 'eu-west-1',
          'mlflow.org/rds-instance-id': 'mlflow-prod',
          'mlflow.org/s3-artifact-root': 's3://mlflow-prod-artifacts/mlflow',
          'mlflow.org/kubernetes-cluster': 'local',
          'backstage.io/kubernetes-id': 'mlflow-prod',
          'backstage.io/kubernetes-namespace': 'mlflow-prod',
          'mlflow.org/auth-mode': 'basic-auth',
          'mlflow.org/auth-admin-secret': 'mlflow-prod-mlflow-auth',
          'mlflow.org/health-secret': 'mlflow-prod-mlflow-health',
        }),
      ),
    ).toEqual({
      trackingUrl: 'https://mlflow.example.com',
      awsRegion: 'eu-west-1',
      rdsInstanceId: 'mlflow-prod',
      artifactRoot: 's3://mlflow-prod-artifacts/mlflow',
      bucket: 'mlflow-prod-artifacts',
      artifactPrefix: 'mlflow',
      kubernetesCluster: 'local',
      kubernetesId: 'mlflow-prod',
      kubernetesNamespace: 'mlflow-prod',
      authMode: 'basic-auth',
      authAdminSecret: 'mlflow-prod-mlflow-auth',
      healthSecret: 'mlflow-prod-mlflow-health',
    });
  });

  it('parseMlflowAuthMode accepts the two modes only', () => {
    expect(parseMlflowAuthMode('basic-auth')).toBe('basic-auth');
    expect(parseMlflowAuthMode('anonymous')).toBe('anonymous');
    expect(parseMlflowAuthMode('Basic-Auth')).toBeUndefined();
    expect(parseMlflowAuthMode(undefined)).toBeUndefined();
  });
});
