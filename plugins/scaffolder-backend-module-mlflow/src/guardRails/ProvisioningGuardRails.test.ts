import { ConfigReader } from '@backstage/config';
import { ProvisioningGuardRails } from './ProvisioningGuardRails';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234';

describe('ProvisioningGuardRails', () => {
  const unset = ProvisioningGuardRails.fromConfig(new ConfigReader({}));
  const configured = ProvisioningGuardRails.fromConfig(
    new ConfigReader({
      mlflow: {
        provisioning: {
          allowedImages: ['ghcr.io/acme/mlflow-server:*', 'registry.acme/**'],
          allowedHostnameDomains: ['mlflow.example.com', '*.localhost'],
          allowedNamespaces: ['mlflow-*', 'ml-platform'],
          adoptableNamespaces: ['legacy-mlflow'],
          allowedKmsKeyArns: [KEY],
        },
      },
    }),
  );

  it('allows no image, hostname or KMS key when unset (fail closed), naming the config key', () => {
    expect(() => unset.checkImage('ghcr.io/acme/mlflow-server:3.1.0')).toThrow(
      'Invalid image: received "ghcr.io/acme/mlflow-server:3.1.0", but the operator allows only images matching nothing (the operator has not configured any) (mlflow.provisioning.allowedImages).',
    );
    expect(() => unset.checkHostname('demo.mlflow.example.com')).toThrow(
      /mlflow\.provisioning\.allowedHostnameDomains/,
    );
    expect(() => unset.checkKmsKeyArn(KEY, 'eu-west-1')).toThrow(
      /mlflow\.provisioning\.allowedKmsKeyArns/,
    );
  });

  it('creates only mlflow-* namespaces and adopts no foreign one by default', () => {
    expect(() => unset.checkNamespace('mlflow-demo', 'absent')).not.toThrow();
    expect(() => unset.checkNamespace('mlflow-demo', 'ours')).not.toThrow();
    expect(() => unset.checkNamespace('team-b', 'absent')).toThrow(
      'Invalid namespace: received "team-b", but the operator allows only namespaces matching mlflow-* (mlflow.provisioning.allowedNamespaces).',
    );
    expect(() => unset.checkNamespace('mlflow-demo', 'foreign')).toThrow(
      /exists and was not created for this instance, and the operator lists only nothing .* as adoptable \(mlflow\.provisioning\.adoptableNamespaces\)/,
    );
  });

  it('matches images with * inside one path segment and ** across segments', () => {
    expect(() =>
      configured.checkImage('ghcr.io/acme/mlflow-server:3.1.0'),
    ).not.toThrow();
    expect(() =>
      configured.checkImage('registry.acme/team/mlflow@sha256:abc'),
    ).not.toThrow();
    for (const image of [
      'ghcr.io/acme/mlflow-server:3.1.0/../evil',
      'ghcr.io/acme/mlflow-server-evil:1',
      'ghcr.io/acme-evil/mlflow-server:1',
      'docker.io/library/mlflow:1',
    ]) {
      expect(() => configured.checkImage(image)).toThrow(/Invalid image/);
    }
  });

  it('allows a host in a listed domain or its subdomains, never a suffix look-alike', () => {
    for (const host of [
      'demo.mlflow.example.com',
      'a.b.mlflow.example.com',
      'demo.mlflow.localhost',
    ]) {
      expect(() => configured.checkHostname(host)).not.toThrow();
    }
    for (const host of ['evilmlflow.example.com', 'example.com', 'demo.com']) {
      expect(() => configured.checkHostname(host)).toThrow(/Invalid hostname/);
    }
  });

  it('uses configured namespace patterns and adopts only listed namespaces', () => {
    expect(() =>
      configured.checkNamespace('ml-platform', 'absent'),
    ).not.toThrow();
    expect(() => configured.checkNamespace('team-b', 'absent')).toThrow();
    expect(() =>
      configured.checkNamespace('legacy-mlflow', 'foreign'),
    ).not.toThrow();
    expect(() => configured.checkNamespace('ml-platform', 'foreign')).toThrow(
      /not created for this instance/,
    );
  });

  it('grants only listed KMS keys of the instance region', () => {
    expect(() => configured.checkKmsKeyArn(KEY, 'eu-west-1')).not.toThrow();
    expect(() => configured.checkKmsKeyArn(KEY, 'us-east-1')).toThrow(
      `Invalid kmsKeyArn: received "${KEY}", a key in eu-west-1, but the instance's bucket is in us-east-1; S3 uses keys of its own region only.`,
    );
    expect(() =>
      configured.checkKmsKeyArn(
        'arn:aws:kms:eu-west-1:210987654321:key/victim',
        'eu-west-1',
      ),
    ).toThrow(/allows the server's role only the KMS keys/);
  });
});
