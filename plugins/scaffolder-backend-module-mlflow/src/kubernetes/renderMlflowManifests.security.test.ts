import { dumpYaml } from '@kubernetes/client-node';
import yaml from 'yaml';
import {
  anonymousOptions,
  baseOptions,
} from '../__testUtils__/manifestOptions';
import { authMigrationScript } from './authSecrets';
import {
  AUTH_DATABASE_URI_KEY,
  manifestsInApplyOrder,
  renderMlflowManifests,
} from './renderMlflowManifests';

describe('renderMlflowManifests', () => {
  const m = renderMlflowManifests(baseOptions);

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
      // The auth container's script names the variables it reads the health login from: no value.
      const script = authMigrationScript(AUTH_DATABASE_URI_KEY);
      expect(script).not.toMatch(/@|postgresql:|=\s*["'][^"']+["']/);
      expect(
        args.filter(
          a => a !== script && /postgres|password|PGPASSWORD|@/i.test(a),
        ),
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
});
