import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { ANNOTATION_LOCATION, Entity } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_MLFLOW_KUBERNETES_CLUSTER,
} from '@stateful-mlflow/plugin-mlflow-common';

/** The catalog calls the removal needs. */
export type InstanceCatalog = Pick<
  CatalogService,
  'getEntityByRef' | 'getEntities' | 'removeEntityByUid'
>;

/** Whether the entity is the one the MLflow catalog module emits for this cluster and namespace. */
export function isInstanceEntity(
  entity: Entity,
  place: { cluster: string; namespace: string },
): boolean {
  const annotations = entity.metadata.annotations ?? {};
  return (
    annotations[ANNOTATION_MLFLOW_KUBERNETES_CLUSTER] === place.cluster &&
    annotations[ANNOTATION_KUBERNETES_NAMESPACE] === place.namespace
  );
}

/**
 * The entities emitted for the instance: its Component and every entity from the same location
 * (its database and artifact Resources). Read-only.
 */
export async function findInstanceEntities(
  catalog: InstanceCatalog,
  entityRef: string,
  credentials: BackstageCredentials,
): Promise<Entity[]> {
  const component = await catalog.getEntityByRef(entityRef, { credentials });
  if (!component) {
    return [];
  }
  const location = component.metadata.annotations?.[ANNOTATION_LOCATION];
  if (!location) {
    return [component];
  }
  const { items } = await catalog.getEntities(
    { filter: { [`metadata.annotations.${ANNOTATION_LOCATION}`]: location } },
    { credentials },
  );
  const others = items.filter(e => e.metadata.uid !== component.metadata.uid);
  return [component, ...others];
}
