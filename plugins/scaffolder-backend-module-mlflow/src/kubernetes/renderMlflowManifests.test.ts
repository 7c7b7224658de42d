import { BACKEND_STORE_URI_KEY } from '@stateful-mlflow/plugin-mlflow-common';
import { dumpYaml } from '@kubernetes/client-node';
import yaml from 'yaml';
import {
  AUTH_DATABASE_URI_KEY,
  allowedHosts,
  manifestsInApplyOrder,
  MlflowManifestOptions,
  renderMlflowManifests,
  sizeConnectionPools,
} from './renderMlflowManifests';

const baseOptions: MlflowManifestOptions = {
  name: 'demo',
  namespace: 'mlflow-demo',
  cluster: 'prod-eu',
  image: 'ghcr.io/acme/mlflow:3.1.0',
  hostname: 'demo.mlflow.example.com',
  environment: 'prod',
  replicas: 2,
  workers: 2,
  serviceAccountName: 'mlflow',
  roleArn: 'arn:aws:iam::123456789012:role/mlflow-demo',
  region: 'eu-west-1',
  owner: 'group:default/ml',
  system: 'forecasting',
  description: 'Demo',
  rdsInstanceId: 'mlflow-demo',
  databaseName: 'mlflow_demo',
  backendStore: { kind: 'secret', secretName: 'demo-db' },
  artifactsDestination: 's3://acme-mlflow-demo/artifacts',
  dbMaxConnections: 100,
  cpuRequest: '250m',
  memoryRequest: '512Mi',
  memoryLimit: '1Gi',
  proxyBodySize: '5g',
  proxyTimeoutSeconds: 600,
  ingressControllerNamespace: 'ingress-nginx',
  allowedClientNamespaces: ['training'],
  extraEnv: {},
  runAsUser: 1000,
  migrationTimeoutSeconds: 600,
  auth: {
    mode: 'basic-auth',
    secretName: 'demo-mlflow-auth',
    healthSecretName: 'demo-mlflow-health',
    configHash: 'abc123',
  },
};
const anonymousOptions: MlflowManifestOptions = {
  ...baseOptions,
  environment: 'dev',
  auth: { mode: 'anonymous' },
};
const fromDbSecret = (name: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: 'demo-db', key: name } },
});

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

  it('runs the migration Job with the same store, surfacing its logs on failure, under a name that changes with its template', () => {
    const job = m.migrationJob!.spec!.template.spec!;
    // The tracking store first, then the auth database, both before any replica starts.
    expect(job.initContainers![0].command).toEqual(['mlflow']);
    expect(job.initContainers![0].args).toEqual([
      'db',
      'upgrade',
      `$(${BACKEND_STORE_URI_KEY})`,
    ]);
    expect(job.containers[0].command).toEqual(['python']);
    expect(job.containers[0].args).toEqual([
      '-m',
      'mlflow.server.auth',
      'db',
      'upgrade',
      '--url',
      `$(${AUTH_DATABASE_URI_KEY})`,
    ]);
    expect(job.containers[0].env).toEqual([
      fromDbSecret(BACKEND_STORE_URI_KEY),
      fromDbSecret('PGPASSWORD'),
      fromDbSecret(AUTH_DATABASE_URI_KEY),
    ]);
    for (const c of [...job.initContainers!, ...job.containers]) {
      expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    }
    const anonymousJob =
      renderMlflowManifests(anonymousOptions).migrationJob!.spec!.template
        .spec!;
    expect(anonymousJob.initContainers).toBeUndefined();
    expect(anonymousJob.containers.map(c => c.args)).toEqual([
      ['db', 'upgrade', `$(${BACKEND_STORE_URI_KEY})`],
    ]);
    expect(job.restartPolicy).toBe('Never');
    const applyOrder = manifestsInApplyOrder(m).map(o => o.kind);
    expect(applyOrder.indexOf('Job')).toBeLessThan(
      applyOrder.indexOf('Deployment'),
    );
    const other = renderMlflowManifests({
      ...baseOptions,
      image: 'ghcr.io/acme/mlflow:3.2.0',
    });
    expect(other.migrationJob!.metadata!.name).not.toBe(
      m.migrationJob!.metadata!.name,
    );
    const resized = renderMlflowManifests({
      ...baseOptions,
      memoryLimit: '2Gi',
    });
    expect(resized.migrationJob!.metadata!.name).not.toBe(
      m.migrationJob!.metadata!.name,
    );
    expect(
      renderMlflowManifests(baseOptions).migrationJob!.metadata!.name,
    ).toBe(m.migrationJob!.metadata!.name);
  });

  it('keeps every process at peak under max_connections', () => {
    for (const [replicas, workers, max] of [
      [2, 2, 100],
      [3, 4, 400],
      [1, 1, 20],
    ]) {
      const pool = sizeConnectionPools({
        replicas,
        workers,
        dbMaxConnections: max,
      })!;
      const peak =
        ((replicas + 1) * workers + 1) * (pool.size + pool.maxOverflow);
      expect(peak).toBeLessThanOrEqual(max - 10);
      expect(pool.size).toBeGreaterThanOrEqual(1);
    }
    expect(
      sizeConnectionPools({ replicas: 10, workers: 8, dbMaxConnections: 50 }),
    ).toBeUndefined();
  });

  it('serves the Ingress for uploads, with TLS and https when a certificate is given', () => {
    expect(m.ingress.metadata!.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-body-size': '5g',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '600',
    });
    expect(m.trackingUrl).toBe('http://demo.mlflow.example.com');
    const tls = renderMlflowManifests({
      ...baseOptions,
      tlsSecretName: 'cert',
    });
    expect(tls.trackingUrl).toBe('https://demo.mlflow.example.com');
    expect(tls.ingress.spec!.tls).toEqual([
      { hosts: ['demo.mlflow.example.com'], secretName: 'cert' },
    ]);
    const issued = renderMlflowManifests({
      ...baseOptions,
      tlsClusterIssuer: 'letsencrypt',
    });
    expect(issued.trackingUrl).toBe('https://demo.mlflow.example.com');
    expect(
      issued.ingress.metadata!.annotations!['cert-manager.io/cluster-issuer'],
    ).toBe('letsencrypt');
    expect(issued.ingress.spec!.tls).toEqual([
      { hosts: ['demo.mlflow.example.com'], secretName: 'demo-tls' },
    ]);
  });

  it('lets only the configured subject get the health Secret, and only that one', () => {
    expect(m.healthSecretRole).toBeUndefined();
    const withReader = renderMlflowManifests({
      ...baseOptions,
      healthSecretReader: {
        kind: 'ServiceAccount',
        name: 'backstage',
        namespace: 'backstage',
      },
    });
    expect(withReader.healthSecretRole!.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['demo-mlflow-health'],
        verbs: ['get'],
      },
    ]);
    expect(withReader.healthSecretRoleBinding!.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'backstage', namespace: 'backstage' },
    ]);
    expect(withReader.healthSecretRoleBinding!.roleRef.name).toBe(
      withReader.healthSecretRole!.metadata!.name,
    );
    expect(
      renderMlflowManifests({
        ...anonymousOptions,
        healthSecretReader: { kind: 'User', name: 'backstage' },
      }).healthSecretRole,
    ).toBeUndefined();
  });

  it('puts no password, admin login or auth config in an argument, a ConfigMap or an annotation', () => {
    for (const options of [baseOptions, anonymousOptions]) {
      const rendered = renderMlflowManifests({
        ...options,
        extraEnv: { MLFLOW_S3_ENDPOINT_URL: 'http://s3.local' },
      });
      const pods = [
        rendered.deployment.spec!.template.spec!,
        rendered.migrationJob!.spec!.template.spec!,
      ];
      const args = pods
        .flatMap(p => [...(p.initContainers ?? []), ...p.containers])
        .flatMap(c => [...(c.command ?? []), ...(c.args ?? [])]);
      // Database URIs reach argv only as $(VAR) references, and those URIs carry no password.
      expect(
        args.filter(a => /postgres|password|PGPASSWORD|@/i.test(a)),
      ).toEqual([]);
      const env = pods.flatMap(p =>
        [...(p.initContainers ?? []), ...p.containers].flatMap(c => c.env!),
      );
      // Every credential comes from a Secret; plain values are names and paths.
      for (const e of env.filter(v => /PASSWORD|SECRET|URI/.test(v.name))) {
        expect(
          e.value === undefined || e.name === 'MLFLOW_AUTH_CONFIG_PATH',
        ).toBe(true);
      }
      expect(Object.keys(rendered.configMap.data!).join()).not.toMatch(
        /PASSWORD|SECRET|URI/,
      );
      const annotations = manifestsInApplyOrder(rendered).flatMap(o =>
        Object.values(o.metadata?.annotations ?? {}),
      );
      expect(annotations.join('\n')).not.toMatch(/postgres|password|admin_/i);
    }
  });

  it('writes valid YAML, NetworkPolicy peers included, and never a database URI', () => {
    const docs = manifestsInApplyOrder(m).map(o => yaml.parse(dumpYaml(o)));
    const policy = docs.find(d => d.kind === 'NetworkPolicy');
    expect(policy.spec.ingress[0].from).toEqual(
      expect.arrayContaining([
        {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
          },
        },
        {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': 'training' },
          },
        },
      ]),
    );
    expect(docs.map(d => d.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ConfigMap',
      'Service',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Job',
      'Deployment',
      'Ingress',
    ]);
    expect(JSON.stringify(docs)).not.toMatch(/postgres(ql)?:\/\//);
  });

  it('puts an ephemeral sqlite URI inline and runs no migration Job', () => {
    const e = renderMlflowManifests({
      ...anonymousOptions,
      backendStore: { kind: 'ephemeral', uri: 'sqlite:////tmp/mlflow.db' },
      artifactsDestination: '/tmp/artifacts',
    });
    expect(e.migrationJob).toBeUndefined();
    expect(e.deployment.spec!.template.spec!.containers[0].env).toEqual([
      { name: BACKEND_STORE_URI_KEY, value: 'sqlite:////tmp/mlflow.db' },
    ]);
    expect(
      e.deployment.metadata!.annotations!['mlflow.org/s3-artifact-root'],
    ).toBeUndefined();
  });
});
