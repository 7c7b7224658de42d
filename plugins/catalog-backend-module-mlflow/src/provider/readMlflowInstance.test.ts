import {
  adoptedInstance,
  helmDeployment,
  managedDeployment,
  mlflowIngress,
  signedDeployment,
  verifiedInstance,
} from './testDeployments';

describe('verifiedMlflowInstance', () => {
  it('takes every fact of a Deployment signed by the deploy action from its signed identity', () => {
    const instance = verifiedInstance(
      signedDeployment('demo', {
        annotations: { 'mlflow.org/aws-account-id': '123456789012' },
      }),
    );
    expect(instance).toEqual({
      cluster: 'local',
      namespace: 'mlflow-demo',
      deploymentName: 'demo',
      instanceName: 'demo',
      trust: 'verified',
      owner: 'group:default/ml-team',
      entityNamespace: 'default',
      createdAt: '2026-01-01T00:00:00.000Z',
      kubernetesId: 'demo',
      hasInstanceLabel: true,
      trackingUrl: 'http://demo.mlflow.localhost',
      awsAccountId: '123456789012',
      awsRegion: 'eu-west-1',
      rdsInstanceId: 'demo-db',
      artifactRoot: 's3://demo-artifacts/mlflow',
      databaseName: 'mlflow',
      system: 'ml-platform',
      description: 'Tracking server demo',
      environment: 'prod',
    });
  });

  it('does not guess from the pod spec of a signed Deployment', () => {
    const signed = signedDeployment('demo', {
      annotations: { 'mlflow.org/s3-artifact-root': '' },
    });
    signed.spec!.template.spec!.containers[0].args = [
      '--default-artifact-root=s3://other/bucket',
    ];
    expect(verifiedInstance(signed).artifactRoot).toBeUndefined();
  });

  it('ignores an unsigned kubernetes-id label: the Kubernetes tab follows the signed instance name', () => {
    const signed = signedDeployment('demo');
    signed.metadata!.labels!['backstage.io/kubernetes-id'] = 'victim';
    expect(verifiedInstance(signed).kubernetesId).toBe('demo');
  });

  it('falls back to the default owner when the signed owner is not an entity ref', () => {
    const signed = signedDeployment('demo', {
      annotations: { 'mlflow.org/owner': 'not a valid ref!' },
    });
    expect(verifiedInstance(signed).owner).toBe('group:default/unknown');
  });

  it('carries the authentication mode and the Secret names, and drops values that are not names', () => {
    const auth = {
      'mlflow.org/auth-mode': 'basic-auth',
      'mlflow.org/auth-admin-secret': 'demo-mlflow-auth',
      'mlflow.org/health-secret': 'demo-mlflow-health',
    };
    expect(
      verifiedInstance(signedDeployment('demo', { annotations: auth })),
    ).toMatchObject({
      authMode: 'basic-auth',
      authAdminSecret: 'demo-mlflow-auth',
      healthSecret: 'demo-mlflow-health',
    });
    const odd = verifiedInstance(
      signedDeployment('demo', {
        annotations: {
          'mlflow.org/auth-mode': 'none',
          'mlflow.org/auth-admin-secret': 'Not/A Name',
          'mlflow.org/health-secret': '',
        },
      }),
    );
    expect([odd.authMode, odd.authAdminSecret, odd.healthSecret]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('adoptedMlflowInstance', () => {
  it('ignores every annotation: owner and catalog namespace from the adopt rule, no AWS identifier or URL', () => {
    const forged = managedDeployment('demo', { namespace: 'attacker' });
    forged.metadata!.annotations = {
      ...forged.metadata!.annotations,
      'mlflow.org/auth-mode': 'basic-auth',
      'mlflow.org/auth-admin-secret': 'demo-mlflow-auth',
      'mlflow.org/health-secret': 'demo-mlflow-health',
    };
    const instance = adoptedInstance(forged);
    expect(instance).toMatchObject({
      trust: 'adopted',
      owner: 'group:default/platform-team',
      entityNamespace: 'mlflow-adopted',
      instanceName: 'demo',
    });
    for (const field of [
      'trackingUrl',
      'awsAccountId',
      'awsRegion',
      'rdsInstanceId',
      'artifactRoot',
      'databaseName',
      'system',
      'description',
      'environment',
      'authMode',
      'authAdminSecret',
      'healthSecret',
    ] as const) {
      expect(instance[field]).toBeUndefined();
    }
  });

  it('adopts a Helm install: artifact root from the flag, backend store from a Secret stays unknown', () => {
    const instance = adoptedInstance(
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
      trust: 'adopted',
      hasInstanceLabel: true,
      artifactRoot: 's3://team-a-mlflow/artifacts',
      trackingUrl: 'https://mlflow.team-a.example.com',
    });
    expect(instance.kubernetesId).toBeUndefined();
    expect(instance.rdsInstanceId).toBeUndefined();
    expect(instance.databaseName).toBeUndefined();
    expect(instance.owner).toBe('group:default/platform-team');
  });

  it('reads the RDS instance, region and database of a literal backend store URI but never its credentials', () => {
    const instance = adoptedInstance(
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
    const instance = adoptedInstance(deployment);
    expect(instance.artifactRoot).toBeUndefined();
    expect(instance.rdsInstanceId).toBeUndefined();
    expect(instance.awsRegion).toBe('us-east-1');
  });

  it('falls back to the Deployment name without an instance label', () => {
    const deployment = helmDeployment('x');
    delete deployment.metadata!.labels!['app.kubernetes.io/instance'];
    const instance = adoptedInstance(deployment);
    expect(instance.instanceName).toBe('x-mlflow');
    expect(instance.hasInstanceLabel).toBe(false);
  });
});
