import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import {
  DEFAULT_ARTIFACT_PREFIX,
  defaultDatabaseSecretName,
  defaultNamespace,
  environmentInput,
  nameInput,
  regionInput,
} from './commonInputs';
import { examples } from './instancePlan.examples';
import { validateArtifactPrefix, validateKmsKey } from './s3Create';

/** Default bucket of an instance when the template leaves it empty. */
export const defaultBucketName = (name: string) => `mlflow-${name}-artifacts`;

/**
 * Default PostgreSQL database and role of an instance: unique per instance, so that instances
 * sharing one PostgreSQL server (or an RDS instance) never collide.
 */
export const defaultDatabaseIdentifier = (name: string) =>
  `mlflow_${name.replace(/-/g, '_')}`;

const OIDC_PROVIDER_ARN = /^arn:aws[\w-]*:iam::\d{12}:oidc-provider\/[\w./-]+$/;

/**
 * Validates every input of a whole MLflow instance up front and resolves the derived names, so a
 * template fails on a bad value before its first mutating step. Read-only: it touches nothing.
 */
export function createInstancePlanAction(options: {
  clusters: MlflowClusters;
}) {
  return createTemplateAction({
    id: 'mlflow:instance:plan',
    description:
      'Checks every value of an MLflow instance (names, cluster, sizes) before anything is created, resolves the default names (RDS instance, bucket, namespace, role, Secret) and logs the plan. Creates nothing.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        environment: environmentInput,
        region: regionInput,
        rdsInstanceId: z =>
          z
            .string()
            .optional()
            .describe('RDS DB instance identifier; mlflow-<name> when empty.'),
        databaseName: z =>
          z
            .string()
            .optional()
            .describe('PostgreSQL database name; mlflow_<name> when empty.'),
        databaseUsername: z =>
          z
            .string()
            .optional()
            .describe(
              'PostgreSQL login role of the tracking server; mlflow_<name> when empty.',
            ),
        allowedSecurityGroupIds: z =>
          z
            .array(z.string())
            .default([])
            .describe('Security groups allowed to reach PostgreSQL.'),
        bucket: z =>
          z
            .string()
            .optional()
            .describe('Artifact bucket; mlflow-<name>-artifacts when empty.'),
        artifactPrefix: z =>
          z
            .string()
            .default(DEFAULT_ARTIFACT_PREFIX)
            .describe('Key prefix of the artifacts in the bucket.'),
        kmsKeyId: z =>
          z
            .string()
            .optional()
            .describe('KMS key of the bucket; SSE-S3 when empty.'),
        cluster: z =>
          z
            .string()
            .describe(
              'Cluster name as configured under kubernetes.clusterLocatorMethods.',
            ),
        namespace: z =>
          z
            .string()
            .optional()
            .describe('Namespace of the instance; mlflow-<name> when empty.'),
        replicas: z =>
          z
            .number()
            .int()
            .min(1)
            .max(20)
            .default(2)
            .describe('Tracking server replicas; at least 2 in prod.'),
        image: z => z.string().describe('MLflow server image.'),
        hostname: z =>
          z.string().describe('Public host name of the tracking server.'),
        tlsSecretName: z =>
          z
            .string()
            .optional()
            .describe(
              'TLS Secret for the hostname; the tracking URL is https when set.',
            ),
        roleName: z =>
          z
            .string()
            .optional()
            .describe('IAM role of the server; mlflow-<name> when empty.'),
        trustType: z =>
          z
            .enum(['irsa', 'podIdentity'])
            .default('irsa')
            .describe('How the ServiceAccount assumes the role.'),
        oidcProviderArn: z =>
          z
            .string()
            .optional()
            .describe("The cluster's IAM OIDC provider ARN; needed for irsa."),
      },
      output: {
        rdsInstanceId: z => z.string().describe('RDS DB instance identifier.'),
        bucket: z => z.string().describe('Artifact bucket name.'),
        artifactRoot: z => z.string().describe('s3://<bucket>/<prefix>.'),
        namespace: z => z.string().describe('Kubernetes namespace.'),
        roleName: z => z.string().describe('IAM role name.'),
        databaseName: z => z.string().describe('PostgreSQL database name.'),
        databaseUsername: z =>
          z.string().describe('PostgreSQL login role of the tracking server.'),
        databaseSecretName: z =>
          z.string().describe('Kubernetes Secret with the database URI.'),
        trackingUrl: z =>
          z.string().describe('Public URL of the tracking server.'),
        entityRef: z =>
          z.string().describe('Catalog entity of the instance (Component).'),
      },
    },
    async handler(ctx) {
      const input = ctx.input;
      const name = validateName(nameRules.instanceName, 'name', input.name);
      const region = validateName(nameRules.awsRegion, 'region', input.region);
      const rdsInstanceId = validateName(
        nameRules.rdsInstanceIdentifier,
        'rdsInstanceId',
        input.rdsInstanceId || `mlflow-${name}`,
      );
      const databaseName = validateName(
        nameRules.postgresDatabaseName,
        'databaseName',
        input.databaseName || defaultDatabaseIdentifier(name),
      );
      const databaseUsername = validateName(
        nameRules.postgresRoleName,
        'databaseUsername',
        input.databaseUsername || defaultDatabaseIdentifier(name),
      );
      input.allowedSecurityGroupIds.forEach((id, i) =>
        validateName(
          nameRules.securityGroupId,
          `allowedSecurityGroupIds[${i}]`,
          id,
        ),
      );
      const bucket = validateName(
        nameRules.s3BucketName,
        'bucket',
        input.bucket || defaultBucketName(name),
      );
      const prefix = validateArtifactPrefix(
        'artifactPrefix',
        input.artifactPrefix,
      );
      if (input.kmsKeyId) {
        validateKmsKey('kmsKeyId', input.kmsKeyId);
      }
      const cluster = options.clusters.get(input.cluster, 'cluster').name;
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        input.namespace || defaultNamespace(name),
      );
      const image = validateName(
        nameRules.containerImage,
        'image',
        input.image,
      );
      const hostname = validateName(
        nameRules.hostname,
        'hostname',
        input.hostname,
      );
      if (input.tlsSecretName) {
        validateName(
          nameRules.kubernetesName,
          'tlsSecretName',
          input.tlsSecretName,
        );
      }
      const roleName = validateName(
        nameRules.iamRoleName,
        'roleName',
        input.roleName || `mlflow-${name}`,
      );
      if (input.environment === 'prod' && input.replicas < 2) {
        throw new InputError(
          `Invalid replicas: received ${input.replicas}, but prod needs at least 2 so that a pod restart or a node drain keeps the server up. Accepted: 2 to 20.`,
        );
      }
      if (input.trustType === 'irsa') {
        if (
          !input.oidcProviderArn ||
          !OIDC_PROVIDER_ARN.test(input.oidcProviderArn)
        ) {
          throw new InputError(
            `Invalid oidcProviderArn: received ${describeReceived(
              input.oidcProviderArn,
            )}, but trustType irsa needs the cluster's IAM OIDC provider. Accepted: arn:aws:iam::<account>:oidc-provider/<issuer host and path>, or trustType podIdentity.`,
          );
        }
      }

      const artifactRoot = `s3://${bucket}/${prefix}`;
      const trackingUrl = `${
        input.tlsSecretName ? 'https' : 'http'
      }://${hostname}`;
      const databaseSecretName = defaultDatabaseSecretName(name);
      ctx.logger.info(
        `Plan for MLflow instance ${name} (${input.environment}): ` +
          `RDS PostgreSQL instance ${rdsInstanceId} in ${region} with database ${databaseName} and role ${databaseUsername}; ` +
          `artifacts in ${artifactRoot}; IAM role ${roleName} (${input.trustType}) limited to that prefix; ` +
          `${input.replicas} replica(s) of ${image} in namespace ${namespace} of cluster ${cluster}, ` +
          `database URI in Secret ${databaseSecretName}, served at ${trackingUrl}`,
      );

      ctx.output('rdsInstanceId', rdsInstanceId);
      ctx.output('bucket', bucket);
      ctx.output('artifactRoot', artifactRoot);
      ctx.output('namespace', namespace);
      ctx.output('roleName', roleName);
      ctx.output('databaseName', databaseName);
      ctx.output('databaseUsername', databaseUsername);
      ctx.output('databaseSecretName', databaseSecretName);
      ctx.output('trackingUrl', trackingUrl);
      ctx.output('entityRef', `component:default/${name}`);
    },
  });
}
