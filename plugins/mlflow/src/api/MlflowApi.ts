import { CompoundEntityRef } from '@backstage/catalog-model';
import { createApiRef } from '@backstage/core-plugin-api';
import {
  MlflowFleetHealthResponse,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';

/**
 * Options of {@link MlflowApi.getHealth}.
 *
 * @public
 */
export type MlflowGetHealthOptions = {
  /** Ask the backend to check again instead of answering from its cache (rate-limited). */
  refresh?: boolean;
  /** Aborts the request, e.g. when the component that asked unmounts. */
  signal?: AbortSignal;
};

/**
 * Reads health reports of MLflow instances from the `mlflow` backend plugin.
 *
 * @public
 */
export interface MlflowApi {
  /** The health report of one instance, by its catalog entity ref. */
  getHealth(
    entityRef: string | CompoundEntityRef,
    options?: MlflowGetHealthOptions,
  ): Promise<MlflowHealthReport>;

  /** Health reports of many instances; one item per ref, in order. */
  getFleetHealth(
    entityRefs: Array<string | CompoundEntityRef>,
    options?: MlflowGetHealthOptions,
  ): Promise<MlflowFleetHealthResponse>;
}

/**
 * The API reference of {@link MlflowApi}, shared by both frontend systems.
 *
 * @public
 */
export const mlflowApiRef = createApiRef<MlflowApi>({
  id: 'plugin.mlflow.service',
});
