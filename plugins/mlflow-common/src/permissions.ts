import {
  createPermission,
  Permission,
} from '@backstage/plugin-permission-common';

/**
 * Creating a new MLflow instance through the template's actions. A basic permission: before the
 * instance exists there is no entity to decide on.
 *
 * @public
 */
export const mlflowInstanceCreatePermission = createPermission({
  name: 'mlflow.instance.create',
  attributes: { action: 'create' },
});

/**
 * Changing an existing MLflow instance (a rerun of the template, a new image, a new owner). A
 * resource permission on the instance's catalog entity, so policies can decide with the catalog's
 * rules (`isEntityOwner` …).
 *
 * @public
 */
export const mlflowInstanceUpdatePermission = createPermission({
  name: 'mlflow.instance.update',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/**
 * Decommissioning an MLflow instance and deleting its resources. A resource permission on the
 * instance's catalog entity, like update.
 *
 * @public
 */
export const mlflowInstanceDeletePermission = createPermission({
  name: 'mlflow.instance.delete',
  attributes: { action: 'delete' },
  resourceType: 'catalog-entity',
});

/**
 * Reading the health report of an MLflow instance. A resource permission on the catalog entity, so
 * policies can decide with the usual catalog conditions (owner, kind, annotations).
 *
 * @public
 */
export const mlflowInstanceHealthReadPermission = createPermission({
  name: 'mlflow.instance.health.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});

/**
 * Every permission of the MLflow plugins.
 *
 * @public
 */
export const mlflowPermissions: Permission[] = [
  mlflowInstanceCreatePermission,
  mlflowInstanceUpdatePermission,
  mlflowInstanceDeletePermission,
  mlflowInstanceHealthReadPermission,
];
