import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import {
  allowAnonymousAccessInput,
  allowedSecurityGroupIdsInput,
  artifactPrefixInput,
  clusterInput,
  environmentInput,
  hostnameInput,
  imageInput,
  nameInput,
  namespaceInput,
  oidcProviderArnInput,
  ownerInput,
  rdsInstanceIdInput,
  regionInput,
  roleNameInput,
  tlsClusterIssuerInput,
  tlsSecretNameInput,
  trustTypeInput,
} from './inputProperties';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun } from '../authorization/authorizeRun';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';
import { readInstanceOwnership } from '../kubernetes/clusterState';
import { checkAnonymousAccess } from '../kubernetes/deployInput';
import { KubernetesApiProvider } from '../kubernetes/kubernetesApi';
import { examples } from './instancePlan.examples';

/**
 * Validates every input of a whole MLflow instance up front and resolves the derived names, so a
 * template fails on a bad value before its first mutating step. Read-only: it touches nothing.
 *
 * @public
 */
export function createInstancePlanAction(options: {
  clusters: MlflowClusters;
  kubernetes: KubernetesApiProvider;
  authorization: InstanceChangeAuthorizationDeps;
  guardRails: ProvisioningGuardRails;
}) {
  return createTemplateAction({
    id: 'mlflow:instance:plan',
    description:
      "Checks every value of an MLflow instance (names, cluster, sizes, the operator's guard rails) and whether the initiator may create or change it, before anything is created; resolves the default names (RDS instance, bucket, namespace, role, Secret) and logs the plan. Creates nothing.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        environment: environmentInput,
        region: regionInput,
        rdsInstanceId: rdsInstanceIdInput,
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
        allowedSecurityGroupIds: allowedSecurityGroupIdsInput,
        bucket: z =>
          z
            .string()
            .optional()
            .describe('Artifact bucket; mlflow-<name>-artifacts when empty.'),
        artifactPrefix: artifactPrefixInput,
        kmsKeyId: z =>
          z
            .string()
            .optional()
            .describe('KMS key of the bucket; SSE-S3 when empty.'),
        cluster: clusterInput,
        namespace: namespaceInput,
        replicas: z =>
          z
            .number()
            .int()
            .min(1)
            .max(20)
            .default(2)
            .describe('Tracking server replicas; at least 2 in prod.'),
        image: imageInput,
        hostname: hostnameInput,
        tlsSecretName: tlsSecretNameInput,
        tlsClusterIssuer: tlsClusterIssuerInput,
        allowAnonymousAccess: allowAnonymousAccessInput,
        roleName: roleNameInput,
        trustType: trustTypeInput,
        oidcProviderArn: oidcProviderArnInput,
        owner: ownerInput,
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
        owner: z =>
          z
            .string()
            .describe(
              'Owner of the instance after this run, a full entity ref (group:default/team-a).',
            ),
      },
    },
    async handler(ctx) {
      const input = ctx.input;
      // The riskiest choice is refused first, before any name is looked at.
      checkAnonymousAccess(input);
      const name = validateName(nameRules.instanceName, 'name', input.name);
      const names = resolveInstanceNames({ ...input, name });
      const region = validateName(nameRules.awsRegion, 'region', input.region);
      // Each resolved name is checked under the field that sets it.
      const checks: Array<[keyof typeof nameRules, string, string]> = [
        ['rdsInstanceIdentifier', 'rdsInstanceId', names.rdsInstanceId],
        ['postgresDatabaseName', 'databaseName', names.databaseName],
        ['postgresRoleName', 'databaseUsername', names.databaseUsername],
        ['s3BucketName', 'bucket', names.bucket],
        ['artifactPrefix', 'artifactPrefix', names.artifactPrefix],
        ['kubernetesNamespace', 'namespace', names.namespace],
        ['containerImage', 'image', input.image],
        ['hostname', 'hostname', input.hostname],
        ['iamRoleName', 'roleName', names.roleName],
        ...input.allowedSecurityGroupIds.map(
          (id, i): [keyof typeof nameRules, string, string] => [
            'securityGroupId',
            `allowedSecurityGroupIds[${i}]`,
            id,
          ],
        ),
      ];
      if (input.kmsKeyId) {
        checks.push(['kmsKeyId', 'kmsKeyId', input.kmsKeyId]);
      }
      if (input.tlsSecretName) {
        checks.push(['kubernetesName', 'tlsSecretName', input.tlsSecretName]);
      }
      if (input.tlsClusterIssuer) {
        checks.push([
          'kubernetesName',
          'tlsClusterIssuer',
          input.tlsClusterIssuer,
        ]);
      }
      for (const [rule, field, value] of checks) {
        validateName(nameRules[rule], field, value);
      }
      const cluster = options.clusters.get(input.cluster, 'cluster').name;
      if (input.environment === 'prod' && input.replicas < 2) {
        throw new InputError(
          `Invalid replicas: received ${input.replicas}, but prod needs at least 2 so that a pod restart or a node drain keeps the server up. Accepted: 2 to 20.`,
        );
      }
      if (input.trustType === 'irsa') {
        if (!input.oidcProviderArn) {
          throw new InputError(
            `Invalid oidcProviderArn: received ${describeReceived(
              input.oidcProviderArn,
            )}, but trustType irsa needs the cluster's IAM OIDC provider. Accepted: ${
              nameRules.oidcProviderArn.accepted
            }, or trustType podIdentity.`,
          );
        }
        validateName(
          nameRules.oidcProviderArn,
          'oidcProviderArn',
          input.oidcProviderArn,
        );
      }

      options.guardRails.checkImage(input.image);
      options.guardRails.checkHostname(input.hostname);
      if (input.kmsKeyId) {
        options.guardRails.checkKmsKeyArn(input.kmsKeyId, region, 'kmsKeyId');
      }
      const existing = await readInstanceOwnership({
        api: options.kubernetes(cluster, { signal: ctx.signal }),
        name,
        namespace: names.namespace,
        guardRails: options.guardRails,
      });
      const { owner } = await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        requestedOwner: input.owner,
        existing,
        log: message => ctx.logger.info(message),
      });

      const signIn = input.allowAnonymousAccess
        ? 'NO SIGN-IN (allowAnonymousAccess): anyone who reaches the tracking URL may read and change everything'
        : `sign-in required (MLflow basic-auth, admin login in Secret ${names.namespace}/${names.authSecretName})`;
      ctx.logger.info(
        `Plan for MLflow instance ${name} (${input.environment}), owner ${owner}: ` +
          `RDS PostgreSQL instance ${names.rdsInstanceId} in ${region} with database ${names.databaseName} and role ${names.databaseUsername}; ` +
          `artifacts in ${names.artifactRoot}; IAM role ${names.roleName} (${input.trustType}) limited to that prefix; ` +
          `${input.replicas} replica(s) of ${input.image} in namespace ${names.namespace} of cluster ${cluster}, ` +
          `database URI in Secret ${names.databaseSecretName}, served at ${names.trackingUrl}; ${signIn}`,
      );

      ctx.output('rdsInstanceId', names.rdsInstanceId);
      ctx.output('bucket', names.bucket);
      ctx.output('artifactRoot', names.artifactRoot);
      ctx.output('namespace', names.namespace);
      ctx.output('roleName', names.roleName);
      ctx.output('databaseName', names.databaseName);
      ctx.output('databaseUsername', names.databaseUsername);
      ctx.output('databaseSecretName', names.databaseSecretName);
      ctx.output('trackingUrl', names.trackingUrl ?? '');
      ctx.output('entityRef', names.entityRef);
      ctx.output('owner', owner);
    },
  });
}
