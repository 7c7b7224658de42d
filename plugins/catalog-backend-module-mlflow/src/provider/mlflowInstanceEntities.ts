import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
} from '@backstage/catalog-model';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_LABEL_SELECTOR,
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_MLFLOW_ADOPTED,
  ANNOTATION_MLFLOW_AUTH_ADMIN_SECRET,
  ANNOTATION_MLFLOW_AUTH_MODE,
  ANNOTATION_MLFLOW_HEALTH_SECRET,
  ANNOTATION_MLFLOW_AWS_ACCOUNT_ID,
  ANNOTATION_MLFLOW_AWS_REGION,
  ANNOTATION_MLFLOW_KUBERNETES_CLUSTER,
  ANNOTATION_MLFLOW_RDS_INSTANCE_ID,
  ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT,
  ANNOTATION_MLFLOW_TRACKING_URL,
  ANNOTATION_MLFLOW_TRUSTED,
  DEPLOYMENT_ANNOTATION_DATABASE_NAME,
  LABEL_APP_INSTANCE,
  LABEL_APP_NAME,
  LABEL_APP_NAME_MLFLOW,
  mlflowResourceNames,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowInstance } from './readMlflowInstance';
import { normalizeEntityRef } from './normalizeEntityRef';

/** The location type of entities emitted by this provider: `mlflow-cluster:<cluster>/<namespace>/<deployment>`. */
export const MLFLOW_CLUSTER_LOCATION_TYPE = 'mlflow-cluster';

/** Where the entities of an instance come from; also their catalog location key. */
export function mlflowInstanceLocation(instance: MlflowInstance): string {
  return `${MLFLOW_CLUSTER_LOCATION_TYPE}:${instance.cluster}/${instance.namespace}/${instance.deploymentName}`;
}

function lifecycleOf(environment: string | undefined): string {
  return environment === 'prod' ? 'production' : 'experimental';
}

/** The annotation value or nothing: unknown facts are omitted rather than guessed. */
function known(entries: Record<string, string | undefined>) {
  return Object.fromEntries(
    Object.entries(entries).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
}

/**
 * The catalog entities of one MLflow instance: the Component (the tracking server) and the two
 * Resources it depends on, `<name>-db` and `<name>-artifacts`.
 */
export function mlflowInstanceEntities(
  instance: MlflowInstance,
  entityName: string,
): Entity[] {
  const location = mlflowInstanceLocation(instance);
  const namespace = instance.entityNamespace;
  const adopted = instance.trust === 'adopted';
  const owner = instance.owner;
  const system = normalizeEntityRef(instance.system, 'system');
  const resources = mlflowResourceNames(entityName);
  const where = `Deployment ${instance.namespace}/${instance.deploymentName} in cluster ${instance.cluster}`;
  const adoptedNote = adopted
    ? ' Adopted: installed by other means, so only what its labels and pod spec tell is known.'
    : '';

  const common = known({
    [ANNOTATION_LOCATION]: location,
    [ANNOTATION_ORIGIN_LOCATION]: location,
    [ANNOTATION_MLFLOW_KUBERNETES_CLUSTER]: instance.cluster,
    [ANNOTATION_MLFLOW_AWS_ACCOUNT_ID]: instance.awsAccountId,
    [ANNOTATION_MLFLOW_AWS_REGION]: instance.awsRegion,
    [ANNOTATION_MLFLOW_ADOPTED]: adopted ? 'true' : undefined,
    [ANNOTATION_MLFLOW_TRUSTED]:
      instance.trust === 'verified' ? 'true' : undefined,
  });
  const ownership = { owner, ...(system ? { system } : {}) };
  const lifecycle = lifecycleOf(instance.environment);

  const component: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: entityName,
      namespace,
      title: instance.instanceName,
      description:
        (instance.description ?? `MLflow tracking server (${where}).`) +
        adoptedNote,
      tags: ['mlflow'],
      annotations: {
        ...common,
        ...known({
          [ANNOTATION_MLFLOW_TRACKING_URL]: instance.trackingUrl,
          [ANNOTATION_MLFLOW_RDS_INSTANCE_ID]: instance.rdsInstanceId,
          [ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT]: instance.artifactRoot,
          [ANNOTATION_KUBERNETES_ID]:
            instance.kubernetesId ?? instance.instanceName,
          [ANNOTATION_KUBERNETES_NAMESPACE]: instance.namespace,
          [ANNOTATION_MLFLOW_AUTH_MODE]: instance.authMode,
          [ANNOTATION_MLFLOW_AUTH_ADMIN_SECRET]: instance.authAdminSecret,
          [ANNOTATION_MLFLOW_HEALTH_SECRET]: instance.healthSecret,
          // Without the kubernetes-id label, the core Kubernetes tab finds the objects by these labels.
          [ANNOTATION_KUBERNETES_LABEL_SELECTOR]:
            !instance.kubernetesId && instance.hasInstanceLabel
              ? `${LABEL_APP_NAME}=${LABEL_APP_NAME_MLFLOW},${LABEL_APP_INSTANCE}=${instance.instanceName}`
              : undefined,
        }),
      },
      ...(instance.trackingUrl
        ? { links: [{ url: instance.trackingUrl, title: 'MLflow UI' }] }
        : {}),
    },
    spec: {
      type: 'service',
      lifecycle,
      ...ownership,
      dependsOn: [
        `resource:${namespace}/${resources.database}`,
        `resource:${namespace}/${resources.artifacts}`,
      ],
    },
  };

  const database: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: resources.database,
      namespace,
      title: `${instance.instanceName} database`,
      description: instance.rdsInstanceId
        ? `PostgreSQL backend store of MLflow ${
            instance.instanceName
          }: database ${instance.databaseName ?? '(unknown)'} on RDS instance ${
            instance.rdsInstanceId
          }.`
        : `PostgreSQL backend store of MLflow ${instance.instanceName}; the RDS instance is unknown.`,
      tags: ['mlflow', 'postgresql'],
      annotations: {
        ...common,
        ...known({
          [ANNOTATION_MLFLOW_RDS_INSTANCE_ID]: instance.rdsInstanceId,
          [DEPLOYMENT_ANNOTATION_DATABASE_NAME]: instance.databaseName,
        }),
      },
    },
    spec: { type: 'database', lifecycle, ...ownership },
  };

  const artifacts: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: resources.artifacts,
      namespace,
      title: `${instance.instanceName} artifacts`,
      description: instance.artifactRoot
        ? `S3 artifact store of MLflow ${instance.instanceName}: ${instance.artifactRoot}.`
        : `S3 artifact store of MLflow ${instance.instanceName}; the bucket is unknown.`,
      tags: ['mlflow', 's3'],
      annotations: {
        ...common,
        ...known({
          [ANNOTATION_MLFLOW_S3_ARTIFACT_ROOT]: instance.artifactRoot,
        }),
      },
    },
    spec: { type: 's3-bucket', lifecycle, ...ownership },
  };

  return [component, database, artifacts];
}
