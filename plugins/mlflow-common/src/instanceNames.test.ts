import { resolveInstanceNames } from './instanceNames';

describe('resolveInstanceNames', () => {
  it('derives every default name from the instance name', () => {
    expect(resolveInstanceNames({ name: 'team-a' })).toEqual({
      name: 'team-a',
      rdsInstanceId: 'mlflow-team-a',
      bucket: 'mlflow-team-a-artifacts',
      artifactPrefix: 'artifacts',
      artifactRoot: 's3://mlflow-team-a-artifacts/artifacts',
      namespace: 'mlflow-team-a',
      roleName: 'mlflow-team-a',
      databaseName: 'mlflow_team_a',
      databaseUsername: 'mlflow_team_a',
      databaseSecretName: 'team-a-db',
      secretsManagerName: 'mlflow/team-a/database',
      serviceAccountName: 'mlflow',
      deploymentName: 'team-a',
      authDatabaseName: 'mlflow_team_a_auth',
      authSecretName: 'team-a-mlflow-auth',
      healthSecretName: 'team-a-mlflow-health',
      ingressTlsSecretName: undefined,
      trackingUrl: undefined,
      entityRef: 'component:default/team-a',
    });
  });

  it('keeps every override and treats an empty one as absent', () => {
    const names = resolveInstanceNames({
      name: 'demo',
      rdsInstanceId: 'shared-db',
      bucket: 'my-bucket',
      artifactPrefix: 'ml/runs',
      namespace: '',
      roleName: 'role',
      databaseName: 'db',
      databaseUsername: 'user',
      databaseSecretName: 'secret',
      secretsManagerName: 'sm',
      serviceAccountName: 'sa',
    });
    expect(names).toMatchObject({
      rdsInstanceId: 'shared-db',
      bucket: 'my-bucket',
      artifactRoot: 's3://my-bucket/ml/runs',
      namespace: 'mlflow-demo',
      roleName: 'role',
      databaseName: 'db',
      databaseUsername: 'user',
      databaseSecretName: 'secret',
      secretsManagerName: 'sm',
      serviceAccountName: 'sa',
    });
  });

  it('builds the tracking URL from the hostname, https with a TLS Secret', () => {
    expect(
      resolveInstanceNames({ name: 'demo', hostname: 'ml.example.com' })
        .trackingUrl,
    ).toBe('http://ml.example.com');
    expect(
      resolveInstanceNames({
        name: 'demo',
        hostname: 'ml.example.com',
        tlsSecretName: 'tls',
      }).trackingUrl,
    ).toBe('https://ml.example.com');
  });

  it('makes the tracking URL https with a cert-manager issuer, the certificate in <name>-tls', () => {
    const names = resolveInstanceNames({
      name: 'demo',
      hostname: 'ml.example.com',
      tlsClusterIssuer: 'letsencrypt',
    });
    expect(names.trackingUrl).toBe('https://ml.example.com');
    expect(names.ingressTlsSecretName).toBe('demo-tls');
    expect(
      resolveInstanceNames({
        name: 'demo',
        tlsSecretName: 'wildcard-tls',
        tlsClusterIssuer: 'letsencrypt',
      }).ingressTlsSecretName,
    ).toBe('wildcard-tls');
  });
});
