import { BACKEND_STORE_URI_KEY } from '@stateful-mlflow/plugin-mlflow-common';
import {
  anonymousOptions,
  baseOptions,
  fromDbSecret,
} from '../__testUtils__/manifestOptions';
import { allowedHosts, renderMlflowManifests } from './renderMlflowManifests';

describe('renderMlflowManifests', () => {
  const m = renderMlflowManifests(baseOptions);
  const server = m.deployment.spec!.template.spec!.containers[0];

  it('labels the server for the catalog and the Kubernetes plugin, and the migration apart from it', () => {
    for (const labels of [
      m.deployment.metadata!.labels,
      m.deployment.spec!.template.metadata!.labels,
      m.service.metadata!.labels,
    ]) {
      expect(labels).toMatchObject({
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': 'demo',
        'app.kubernetes.io/managed-by': 'backstage-stateful-mlflow',
        'app.kubernetes.io/part-of': 'forecasting',
        'backstage.io/kubernetes-id': 'demo',
      });
    }
    const jobPodLabels = m.migrationJob!.spec!.template.metadata!.labels!;
    expect(jobPodLabels['app.kubernetes.io/name']).toBeUndefined();
    expect(jobPodLabels['app.kubernetes.io/component']).toBe('migration');
    const selector = m.deployment.spec!.selector.matchLabels!;
    expect(
      Object.entries(selector).every(([k, v]) => jobPodLabels[k] === v),
    ).toBe(false);
    expect(m.service.spec!.selector).toEqual(selector);
    expect(m.podDisruptionBudget.spec!.selector!.matchLabels).toEqual(selector);
  });

  it('annotates the Deployment with everything the catalog needs', () => {
    expect(m.deployment.metadata!.annotations).toEqual({
      'mlflow.org/tracking-url': 'http://demo.mlflow.example.com',
      'mlflow.org/aws-region': 'eu-west-1',
      'mlflow.org/rds-instance-id': 'mlflow-demo',
      'mlflow.org/s3-artifact-root': 's3://acme-mlflow-demo/artifacts',
      'mlflow.org/kubernetes-cluster': 'prod-eu',
      'mlflow.org/owner': 'group:default/ml',
      'mlflow.org/system': 'forecasting',
      'mlflow.org/description': 'Demo',
      'mlflow.org/environment': 'prod',
      'mlflow.org/database-name': 'mlflow_demo',
      'mlflow.org/auth-mode': 'basic-auth',
      'mlflow.org/auth-admin-secret': 'demo-mlflow-auth',
      'mlflow.org/health-secret': 'demo-mlflow-health',
    });
    expect(
      renderMlflowManifests(anonymousOptions).deployment.metadata!.annotations!,
    ).toMatchObject({ 'mlflow.org/auth-mode': 'anonymous' });
    expect(
      Object.keys(
        renderMlflowManifests(anonymousOptions).deployment.metadata!
          .annotations!,
      ),
    ).not.toContain('mlflow.org/auth-admin-secret');
  });

  it('runs mlflow server with the store from the Secret, S3 artifacts and the allowed hosts', () => {
    expect(server.command).toEqual(['mlflow']);
    expect(server.args).toEqual([
      'server',
      '--app-name',
      'basic-auth',
      '--artifacts-destination',
      's3://acme-mlflow-demo/artifacts',
      '--serve-artifacts',
      '--host',
      '0.0.0.0',
      '--port',
      '5000',
      '--workers',
      '2',
      '--allowed-hosts',
      allowedHosts(baseOptions).join(','),
    ]);
    expect(allowedHosts(baseOptions)).toEqual(
      expect.arrayContaining([
        'demo.mlflow.example.com',
        'demo',
        'demo:5000',
        'demo.mlflow-demo',
        'demo.mlflow-demo:5000',
        'demo.mlflow-demo.svc.cluster.local',
        'demo.mlflow-demo.svc.cluster.local:5000',
      ]),
    );
    expect(server.env).toEqual([
      fromDbSecret(BACKEND_STORE_URI_KEY),
      fromDbSecret('PGPASSWORD'),
      {
        name: 'MLFLOW_AUTH_CONFIG_PATH',
        value: '/etc/mlflow-auth/basic_auth.ini',
      },
      {
        name: 'MLFLOW_FLASK_SERVER_SECRET_KEY',
        valueFrom: {
          secretKeyRef: {
            name: 'demo-mlflow-auth',
            key: 'flask-secret-key',
          },
        },
      },
    ]);
    expect(m.configMap.data).toMatchObject({ AWS_REGION: 'eu-west-1' });
    expect(m.serviceAccount.metadata!.annotations).toEqual({
      'eks.amazonaws.com/role-arn':
        'arn:aws:iam::123456789012:role/mlflow-demo',
      'mlflow.org/owner': 'group:default/ml',
    });
  });

  it("turns MLflow's job runner off, so a pod holds no queue of its own and fits its memory limit, unless extraEnv turns it on", () => {
    // The runner's huey consumers queue on the pod's /dev/shm and run periodic tasks on every replica.
    expect(m.configMap.data!.MLFLOW_SERVER_ENABLE_JOB_EXECUTION).toBe('false');
    expect(
      renderMlflowManifests({
        ...baseOptions,
        extraEnv: { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'true' },
      }).configMap.data!.MLFLOW_SERVER_ENABLE_JOB_EXECUTION,
    ).toBe('true');
  });

  it('probes readiness through the database without sign-in, /health with it, liveness through /health', () => {
    expect(server.readinessProbe!.httpGet!.path).toBe('/health');
    expect(
      renderMlflowManifests(anonymousOptions).deployment.spec!.template.spec!
        .containers[0].readinessProbe!.httpGet!.path,
    ).toBe('/api/2.0/mlflow/experiments/search?max_results=1');
    expect(server.livenessProbe!.httpGet!.path).toBe('/health');
    expect(server.startupProbe!.httpGet!.path).toBe('/health');
  });

  it('sees a started server within a second and gives a slow start 5 minutes before restarting it', () => {
    const startup = server.startupProbe!;
    expect(startup.periodSeconds).toBe(1);
    expect(startup.periodSeconds! * startup.failureThreshold!).toBe(300);
    const readiness = server.readinessProbe!;
    expect(readiness.periodSeconds).toBeLessThanOrEqual(5);
    // A replica leaves the Service after 30 s of failed looks, not after one slow answer.
    expect(readiness.periodSeconds! * readiness.failureThreshold!).toBe(30);
  });

  it('hardens the pods and rolls without losing capacity', () => {
    const pod = m.deployment.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(server.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      {
        name: 'auth-config',
        secret: {
          secretName: 'demo-mlflow-auth',
          items: [{ key: 'basic_auth.ini', path: 'basic_auth.ini' }],
          defaultMode: 0o440,
        },
      },
    ]);
    expect(server.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'auth-config', mountPath: '/etc/mlflow-auth', readOnly: true },
    ]);
    expect(
      m.deployment.spec!.template.metadata!.annotations![
        'mlflow.org/auth-config-hash'
      ],
    ).toBe('abc123');
    expect(server.resources).toEqual({
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { memory: '1Gi' },
    });
    expect(m.deployment.spec!.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    expect(m.deployment.spec!.replicas).toBe(2);
  });
});
