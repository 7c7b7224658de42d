import {
  componentEntityV1alpha1Validator,
  Entity,
  entitySchemaValidator,
  resourceEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import { mlflowInstanceEntities } from './mlflowInstanceEntities';
import {
  adoptedInstance,
  helmDeployment,
  signedDeployment,
  verifiedInstance,
} from './testDeployments';

const validate = entitySchemaValidator();

async function expectValid(entities: Entity[]) {
  for (const entity of entities) {
    validate(entity);
    const validator =
      entity.kind === 'Component'
        ? componentEntityV1alpha1Validator
        : resourceEntityV1alpha1Validator;
    await expect(validator.check(entity)).resolves.toBe(true);
  }
}

describe('mlflowInstanceEntities', () => {
  it('emits the Component and its two Resources with the annotations of DESIGN.md', async () => {
    const instance = verifiedInstance(signedDeployment('demo'));
    const entities = mlflowInstanceEntities(instance, 'demo');
    await expectValid(entities);
    const [component, database, artifacts] = entities;

    expect(component).toEqual({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'demo',
        namespace: 'default',
        title: 'demo',
        description: 'Tracking server demo',
        tags: ['mlflow'],
        annotations: {
          'backstage.io/managed-by-location':
            'mlflow-cluster:local/mlflow-demo/demo',
          'backstage.io/managed-by-origin-location':
            'mlflow-cluster:local/mlflow-demo/demo',
          'mlflow.org/kubernetes-cluster': 'local',
          'mlflow.org/aws-region': 'eu-west-1',
          'mlflow.org/trusted': 'true',
          'mlflow.org/tracking-url': 'http://demo.mlflow.localhost',
          'mlflow.org/rds-instance-id': 'demo-db',
          'mlflow.org/s3-artifact-root': 's3://demo-artifacts/mlflow',
          'backstage.io/kubernetes-id': 'demo',
          'backstage.io/kubernetes-namespace': 'mlflow-demo',
        },
        links: [{ url: 'http://demo.mlflow.localhost', title: 'MLflow UI' }],
      },
      spec: {
        type: 'service',
        lifecycle: 'production',
        owner: 'group:default/ml-team',
        system: 'system:default/ml-platform',
        dependsOn: [
          'resource:default/demo-db',
          'resource:default/demo-artifacts',
        ],
      },
    });
    expect(database.metadata.name).toBe('demo-db');
    expect(database.spec).toEqual({
      type: 'database',
      lifecycle: 'production',
      owner: 'group:default/ml-team',
      system: 'system:default/ml-platform',
    });
    expect(database.metadata.annotations).toMatchObject({
      'mlflow.org/rds-instance-id': 'demo-db',
      'mlflow.org/database-name': 'mlflow',
    });
    expect(artifacts.metadata.name).toBe('demo-artifacts');
    expect(artifacts.spec?.type).toBe('s3-bucket');
    expect(artifacts.metadata.annotations).toMatchObject({
      'mlflow.org/s3-artifact-root': 's3://demo-artifacts/mlflow',
    });
  });

  it('puts the authentication mode and the Secret names on the Component only', () => {
    const instance = verifiedInstance(
      signedDeployment('demo', {
        annotations: {
          'mlflow.org/auth-mode': 'basic-auth',
          'mlflow.org/auth-admin-secret': 'demo-mlflow-auth',
          'mlflow.org/health-secret': 'demo-mlflow-health',
        },
      }),
    );
    const [component, database, artifacts] = mlflowInstanceEntities(
      instance,
      'demo',
    );
    expect(component.metadata.annotations).toMatchObject({
      'mlflow.org/auth-mode': 'basic-auth',
      'mlflow.org/auth-admin-secret': 'demo-mlflow-auth',
      'mlflow.org/health-secret': 'demo-mlflow-health',
    });
    for (const resource of [database, artifacts]) {
      expect(Object.keys(resource.metadata.annotations ?? {})).not.toContain(
        'mlflow.org/auth-mode',
      );
    }
  });

  it('maps every environment other than prod to the experimental lifecycle', () => {
    for (const environment of ['dev', 'staging']) {
      const instance = verifiedInstance(
        signedDeployment('demo', {
          annotations: { 'mlflow.org/environment': environment },
        }),
      );
      for (const entity of mlflowInstanceEntities(instance, 'demo')) {
        expect(entity.spec?.lifecycle).toBe('experimental');
      }
    }
  });

  it('marks an adopted instance, omits what is unknown, and puts it in its catalog namespace with the configured owner', async () => {
    const instance = adoptedInstance(helmDeployment('team-a'));
    const entities = mlflowInstanceEntities(instance, 'team-a');
    await expectValid(entities);
    const [component, database, artifacts] = entities;
    expect(component.metadata.annotations).toEqual({
      'backstage.io/managed-by-location':
        'mlflow-cluster:local/ml/team-a-mlflow',
      'backstage.io/managed-by-origin-location':
        'mlflow-cluster:local/ml/team-a-mlflow',
      'mlflow.org/kubernetes-cluster': 'local',
      'mlflow.org/adopted': 'true',
      'backstage.io/kubernetes-id': 'team-a',
      'backstage.io/kubernetes-namespace': 'ml',
      'backstage.io/kubernetes-label-selector':
        'app.kubernetes.io/name=mlflow,app.kubernetes.io/instance=team-a',
    });
    expect(component.metadata.links).toBeUndefined();
    expect(component.metadata.description).toContain('Adopted');
    expect(component.metadata.namespace).toBe('mlflow-adopted');
    expect(component.spec?.owner).toBe('group:default/platform-team');
    expect(component.spec?.dependsOn).toEqual([
      'resource:mlflow-adopted/team-a-db',
      'resource:mlflow-adopted/team-a-artifacts',
    ]);
    expect(component.spec?.system).toBeUndefined();
    expect(database.metadata.namespace).toBe('mlflow-adopted');
    expect(database.metadata.annotations?.['mlflow.org/adopted']).toBe('true');
    expect(database.metadata.description).toContain('unknown');
    expect(artifacts.metadata.description).toContain('unknown');
  });

  it('names the entities after the assigned name, not the instance label', () => {
    const instance = verifiedInstance(signedDeployment('demo'));
    const [component, database, artifacts] = mlflowInstanceEntities(
      instance,
      'demo-team-b',
    );
    expect(component.metadata.name).toBe('demo-team-b');
    expect(component.spec?.dependsOn).toEqual([
      'resource:default/demo-team-b-db',
      'resource:default/demo-team-b-artifacts',
    ]);
    expect(database.metadata.name).toBe('demo-team-b-db');
    expect(artifacts.metadata.name).toBe('demo-team-b-artifacts');
  });
});
