import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Reading the health report of an MLflow instance. A resource permission on the catalog entity, so
 * policies can decide with the usual catalog conditions (owner, kind, annotations).
 */
export const mlflowInstanceHealthReadPermission = createPermission({
  name: 'mlflow.instance.health.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});

/** Every permission of the MLflow plugins. */
export const mlflowPermissions = [mlflowInstanceHealthReadPermission];
