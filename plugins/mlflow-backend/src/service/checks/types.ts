import { Entity } from '@backstage/catalog-model';
import {
  MlflowCheckId,
  MlflowEntityInfo,
  MlflowHealthCheck,
} from '@stateful-mlflow/plugin-mlflow-common';

/** What every check receives: the entity, its annotations read once, and the deadline. */
export type CheckInput = {
  entity: Entity;
  info: MlflowEntityInfo;
  signal: AbortSignal;
};

/** A check's result before the service adds its id and latency. */
export type CheckOutcome<K extends MlflowCheckId> = Omit<
  Extract<MlflowHealthCheck, { id: K }>,
  'id' | 'latencyMs'
>;

/** One of the four checks of a report. */
export type HealthCheck<K extends MlflowCheckId> = {
  id: K;
  run(input: CheckInput): Promise<CheckOutcome<K>>;
};

/** The outcome of a check whose annotation is absent. */
export function missingAnnotation(annotation: string): {
  status: 'unknown';
  summary: string;
} {
  return {
    status: 'unknown',
    summary: `Not checked: the entity has no ${annotation} annotation.`,
  };
}

/** The message of a caught error, for a summary. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
