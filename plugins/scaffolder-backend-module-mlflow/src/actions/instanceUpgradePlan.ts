import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import type { MlflowClusters } from '@stateful-mlflow/plugin-mlflow-node';
import { InstanceChangeAuthorizationDeps } from '../authorization/authorizeInstanceChange';
import { authorizeRun } from '../authorization/authorizeRun';
import { AwsClientConfigProvider } from '../aws/clients';
import {
  planRdsChanges,
  RdsSettingsChange,
  validateRdsSettingsChange,
} from '../aws/rdsModify';
import { ProvisioningGuardRails } from '../guardRails/ProvisioningGuardRails';
import { readInstanceOwnership } from '../kubernetes/clusterState';
import {
  mlflowVersionOfImage,
  readCurrentDeployment,
} from '../kubernetes/currentDeployment';
import { KubernetesApiProvider } from '../kubernetes/kubernetesApi';
import {
  clusterInput,
  nameInput,
  namespaceInput,
  tlsClusterIssuerInput,
  tlsSecretNameInput,
} from './inputProperties';
import { examples } from './instanceUpgradePlan.examples';

const optionalString = (z: typeof import('zod/v3').z, what: string) =>
  z.string().optional().describe(what);

/**
 * The first step of an upgrade or change: reads what the instance runs today, checks the new
 * image against the guard rails, decides whether the initiator may change the instance and logs
 * what changes before anything does. Read-only. Its outputs carry the instance's current settings
 * into the deploy step, so nothing else changes by accident.
 */
export function createInstanceUpgradePlanAction(options: {
  clusters: MlflowClusters;
  kubernetes: KubernetesApiProvider;
  authorization: InstanceChangeAuthorizationDeps;
  guardRails: ProvisioningGuardRails;
  aws: AwsClientConfigProvider;
}) {
  return createTemplateAction({
    id: 'mlflow:instance:planUpgrade',
    description:
      "Plans an upgrade or change of an existing MLflow instance: reads the server's current image, replicas and settings from the cluster and its RDS instance's settings, checks the new image against the allowed images and the RDS settings against the shared rules, authorizes the initiator (update on the instance) and logs every change (and when RDS applies it) before anything changes. Read-only.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        cluster: clusterInput,
        namespace: namespaceInput,
        image: z =>
          z
            .string()
            .optional()
            .describe(
              'New MLflow server image (its tag names the MLflow version, e.g. …:v3.17.2); the current one when empty.',
            ),
        replicas: z =>
          z
            .number()
            .int()
            .min(1)
            .max(20)
            .optional()
            .describe(
              'New number of server replicas; the current one when empty.',
            ),
        instanceClass: z =>
          z
            .string()
            .optional()
            .describe('New RDS instance class; the current one when empty.'),
        allocatedStorageGiB: z =>
          z
            .number()
            .optional()
            .describe(
              'New RDS storage in GiB (grows only, by 10 % or more); the current one when empty.',
            ),
        backupRetentionDays: z =>
          z
            .number()
            .optional()
            .describe(
              'New days of automated backups; the current number when empty.',
            ),
        deletionProtection: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Deletion protection on or off; unchanged when empty. Off needs liftDeletionProtection.',
            ),
        liftDeletionProtection: z =>
          z
            .boolean()
            .default(false)
            .describe(
              "The owner's explicit choice to turn deletion protection off.",
            ),
        applyImmediately: z =>
          z
            .boolean()
            .default(false)
            .describe(
              'Apply the RDS changes now rather than in the maintenance window.',
            ),
        tlsSecretName: tlsSecretNameInput,
        tlsClusterIssuer: tlsClusterIssuerInput,
        removeTls: z =>
          z
            .boolean()
            .default(false)
            .describe(
              'Serve the Ingress without TLS from now on (its TLS Secret and issuer are dropped).',
            ),
      },
      output: {
        namespace: z => z.string().describe('Namespace of the instance.'),
        image: z => z.string().describe('Image after the change.'),
        currentImage: z => z.string().describe('Image before the change.'),
        imageChanged: z =>
          z
            .boolean()
            .describe(
              'Whether the image changes: then a snapshot, the migration Job and a rollout follow.',
            ),
        currentVersion: z =>
          optionalString(z, 'MLflow version of the current image tag.'),
        targetVersion: z =>
          optionalString(z, 'MLflow version of the new image tag.'),
        replicas: z => z.number().describe('Replicas after the change.'),
        changes: z =>
          z.array(z.string()).describe('What changes, one line each.'),
        rdsChanged: z =>
          z
            .boolean()
            .describe(
              'Whether an RDS setting changes: then mlflow:rds:modify follows.',
            ),
        hostname: z => z.string().describe('Public host name (unchanged).'),
        trackingUrl: z => z.string().describe('Tracking URL (unchanged).'),
        environment: z => z.string().describe('Environment (unchanged).'),
        owner: z => optionalString(z, 'Owner recorded on the Deployment.'),
        system: z => optionalString(z, 'System of the Component.'),
        description: z => optionalString(z, 'Description of the Component.'),
        region: z => optionalString(z, 'AWS region of the instance.'),
        rdsInstanceId: z => optionalString(z, 'RDS DB instance identifier.'),
        databaseName: z => optionalString(z, 'PostgreSQL database.'),
        databaseSecretName: z => optionalString(z, 'Database Secret.'),
        authSecretName: z => optionalString(z, 'Sign-in Secret (name only).'),
        healthSecretName: z => optionalString(z, 'Health Secret (name only).'),
        allowAnonymousAccess: z =>
          z.boolean().describe('Whether the server runs without sign-in.'),
        roleArn: z => optionalString(z, "The server's IAM role."),
        artifactsDestination: z => optionalString(z, 'Artifact root.'),
        ingressClassName: z => optionalString(z, 'Ingress class.'),
        tlsSecretName: z => optionalString(z, 'TLS Secret of the Ingress.'),
        tlsClusterIssuer: z => optionalString(z, 'cert-manager ClusterIssuer.'),
        workers: z => z.number().optional().describe('Workers per replica.'),
        cpuRequest: z => optionalString(z, 'CPU request per replica.'),
        memoryRequest: z => optionalString(z, 'Memory request per replica.'),
        memoryLimit: z => optionalString(z, 'Memory limit per replica.'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const name = validateName(nameRules.instanceName, 'name', input.name);
      const namespace = validateName(
        nameRules.kubernetesNamespace,
        'namespace',
        resolveInstanceNames({ name, namespace: input.namespace }).namespace,
      );
      if (input.image !== undefined) {
        if (!input.image.trim()) {
          throw new InputError(
            `Invalid image: received ${describeReceived(
              input.image,
            )}. Accepted: an image reference such as ghcr.io/acme/mlflow-server:v3.17.2, or nothing to keep the current one.`,
          );
        }
        options.guardRails.checkImage(input.image);
      }
      const rdsRequested: RdsSettingsChange = {
        instanceClass: input.instanceClass,
        allocatedStorageGiB: input.allocatedStorageGiB,
        backupRetentionDays: input.backupRetentionDays,
        deletionProtection: input.deletionProtection,
      };
      validateRdsSettingsChange(rdsRequested);
      const tls = {
        tlsSecretName:
          input.tlsSecretName &&
          validateName(
            nameRules.kubernetesName,
            'tlsSecretName',
            input.tlsSecretName,
          ),
        tlsClusterIssuer:
          input.tlsClusterIssuer &&
          validateName(
            nameRules.kubernetesName,
            'tlsClusterIssuer',
            input.tlsClusterIssuer,
          ),
      };
      if (input.removeTls && (tls.tlsSecretName || tls.tlsClusterIssuer)) {
        throw new InputError(
          `Invalid removeTls: received true together with ${
            tls.tlsSecretName ? 'tlsSecretName' : 'tlsClusterIssuer'
          }. Accepted: either removeTls, or a TLS Secret / ClusterIssuer to serve TLS with.`,
        );
      }
      const cluster = options.clusters.get(input.cluster, 'cluster').name;
      const api = options.kubernetes(cluster, { signal: ctx.signal });

      const existing = await readInstanceOwnership({
        api,
        name,
        namespace,
        guardRails: options.guardRails,
      });
      const current = await readCurrentDeployment({ api, name, namespace });
      if (!current) {
        throw new InputError(
          `Invalid name: received ${describeReceived(
            name,
          )}, but cluster ${cluster} has no MLflow Deployment ${namespace}/${name} to upgrade. Accepted: the name of a running instance (create it with the mlflow-production template first).`,
        );
      }
      await authorizeRun({
        deps: options.authorization,
        credentials: await ctx.getInitiatorCredentials(),
        name,
        existing,
        log: message => ctx.logger.info(message),
      });

      const image = input.image ?? current.image;
      const replicas = input.replicas ?? current.replicas;
      const environment = current.environment ?? 'dev';
      if (environment === 'prod' && replicas < 2) {
        throw new InputError(
          `Invalid replicas: received ${replicas}. Accepted: at least 2 in prod, so that a pod restart or a node drain keeps the server up.`,
        );
      }
      const imageChanged = image !== current.image;
      const currentVersion = mlflowVersionOfImage(current.image);
      const targetVersion = mlflowVersionOfImage(image);
      const changes: string[] = [];
      if (imageChanged) {
        changes.push(
          `image ${current.image} → ${image}${
            currentVersion && targetVersion
              ? ` (MLflow ${currentVersion} → ${targetVersion})`
              : ''
          }: a manual RDS snapshot of ${
            current.rdsInstanceId ?? 'the database'
          } first, then the schema migration Job (the running pods keep serving until it succeeds), then the rollout and a health check`,
        );
      }
      if (replicas !== current.replicas) {
        changes.push(`replicas ${current.replicas} → ${replicas}`);
      }
      const tlsAfter = input.removeTls
        ? { tlsSecretName: undefined, tlsClusterIssuer: undefined }
        : {
            tlsSecretName: tls.tlsSecretName || current.tlsSecretName,
            tlsClusterIssuer: tls.tlsClusterIssuer || current.tlsClusterIssuer,
          };
      for (const [key, label] of [
        ['tlsSecretName', 'TLS Secret'],
        ['tlsClusterIssuer', 'TLS ClusterIssuer'],
      ] as const) {
        if (tlsAfter[key] !== current[key]) {
          changes.push(
            `${label} ${current[key] ?? 'none'} → ${tlsAfter[key] ?? 'none'}`,
          );
        }
      }
      const rdsChanges = Object.values(rdsRequested).some(v => v !== undefined)
        ? await planRdsChanges({
            aws: options.aws,
            name,
            region: current.region,
            instanceId: current.rdsInstanceId,
            requested: rdsRequested,
            applyImmediately: input.applyImmediately,
            liftDeletionProtection: input.liftDeletionProtection,
          })
        : [];
      changes.push(...rdsChanges);
      ctx.logger.info(
        changes.length > 0
          ? `Upgrade plan for MLflow instance ${name} (${namespace} on ${cluster}):\n${changes
              .map(c => `- ${c}`)
              .join('\n')}`
          : `Nothing changes for MLflow instance ${name}: it runs ${current.image} with ${current.replicas} replicas and the asked RDS settings already (a rerun re-applies the same manifests)`,
      );

      const {
        image: _current,
        replicas: _replicas,
        tlsSecretName: _tlsSecretName,
        tlsClusterIssuer: _tlsClusterIssuer,
        ...carried
      } = { ...current, ...tlsAfter };
      if (tlsAfter.tlsSecretName) {
        ctx.output('tlsSecretName', tlsAfter.tlsSecretName);
      }
      if (tlsAfter.tlsClusterIssuer) {
        ctx.output('tlsClusterIssuer', tlsAfter.tlsClusterIssuer);
      }
      for (const [key, value] of Object.entries(carried)) {
        if (value !== undefined) {
          ctx.output(key as keyof typeof carried, value as never);
        }
      }
      ctx.output('namespace', namespace);
      ctx.output('environment', environment);
      ctx.output('image', image);
      ctx.output('currentImage', current.image);
      ctx.output('imageChanged', imageChanged);
      if (currentVersion) ctx.output('currentVersion', currentVersion);
      if (targetVersion) ctx.output('targetVersion', targetVersion);
      ctx.output('replicas', replicas);
      ctx.output('changes', changes);
      ctx.output('rdsChanged', rdsChanges.length > 0);
    },
  });
}
