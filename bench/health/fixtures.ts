import { DBInstance } from '@aws-sdk/client-rds';
import { Entity } from '@backstage/catalog-model';

/*
 * The peers' answers for one compliant instance `<name>`, as the benchmark's simulated AWS,
 * Kubernetes and catalog serve them. Kept here so the benchmark needs only the plugins' public
 * entry points.
 */

/** The catalog Component of an instance, with every MLflow annotation; `annotations` override. */
export function mlflowEntity(
  name: string,
  annotations: Record<string, string> = {},
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'mlflow.org/tracking-url': `http://${name}.mlflow.localhost`,
        'mlflow.org/aws-region': 'eu-west-1',
        'mlflow.org/rds-instance-id': `${name}-db`,
        'mlflow.org/s3-artifact-root': `s3://${name}-artifacts/mlflow`,
        'mlflow.org/kubernetes-cluster': 'local',
        'backstage.io/kubernetes-id': name,
        'backstage.io/kubernetes-namespace': name,
        'backstage.io/managed-by-origin-location': `mlflow-cluster:local/${name}/${name}`,
        'mlflow.org/trusted': 'true',
        ...annotations,
      },
    },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-ml' },
  };
}

/** DescribeDBInstances' entry for a healthy, compliant database `id` (`<name>-db`). */
export function rdsInstance(id: string): DBInstance {
  return {
    DBInstanceIdentifier: id,
    DBInstanceStatus: 'available',
    Engine: 'postgres',
    EngineVersion: '16.4',
    DBInstanceClass: 'db.t4g.medium',
    AllocatedStorage: 20,
    Endpoint: {
      Address: `${id}.example.eu-west-1.rds.amazonaws.com`,
      Port: 5432,
    },
    MultiAZ: true,
    StorageEncrypted: true,
    PubliclyAccessible: false,
    BackupRetentionPeriod: 7,
    DeletionProtection: true,
    MasterUsername: 'mlflow_admin',
    MasterUserSecret: {
      SecretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-${id}`,
      SecretStatus: 'active',
    },
    TagList: [
      { Key: 'stateful-mlflow/instance', Value: id.replace(/-db$/, '') },
      { Key: 'owner', Value: 'group:default/team-ml' },
    ],
  };
}

/** The instance's Deployment with `desired` replicas, `ready` of them ready and all updated. */
export function mlflowDeployment(
  name: string,
  replicas: { desired: number; ready: number },
) {
  return {
    metadata: {
      name,
      namespace: name,
      labels: {
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': name,
      },
    },
    spec: {
      replicas: replicas.desired,
      selector: { matchLabels: { 'app.kubernetes.io/instance': name } },
      template: {
        spec: {
          containers: [
            { name: 'mlflow', image: 'ghcr.io/mlflow/mlflow:v3.1.0' },
          ],
        },
      },
    },
    status: {
      replicas: replicas.desired,
      readyReplicas: replicas.ready,
      availableReplicas: replicas.ready,
      updatedReplicas: replicas.desired,
      conditions: [
        { type: 'Available', status: replicas.ready > 0 ? 'True' : 'False' },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
        },
      ],
    },
  };
}
