import { Entity } from '@backstage/catalog-model';
import {
  MlflowCheckId,
  MlflowEntityInfo,
  MlflowHealthCheck,
} from '@stateful-mlflow/plugin-mlflow-common';
import { InstanceIdentity } from '../instanceIdentity';

/**
 * What every check receives: the entity, its annotations read once, the instance identity its
 * resources must carry, the deadline, and where raw peer errors go (the backend log, never a
 * summary).
 */
export type CheckInput = {
  entity: Entity;
  info: MlflowEntityInfo;
  identity?: InstanceIdentity;
  signal: AbortSignal;
  log: (message: string) => void;
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

/** The outcome of a check that needs the instance identity when the entity has none. */
export function missingIdentity(annotation: string): {
  status: 'unknown';
  summary: string;
} {
  return {
    status: 'unknown',
    summary: `Not checked: the entity has no ${annotation} annotation, so the instance's resources cannot be told from others'.`,
  };
}

/**
 * The message of a caught error, for the backend log (never a summary: peers' error texts can
 * name role ARNs and internal addresses). Network errors often say little themselves
 * ("fetch failed", or nothing for a refused connection to several addresses): their code,
 * cause or inner errors say what happened.
 */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const code = (error as { code?: unknown }).code;
  const inner =
    error instanceof AggregateError
      ? error.errors.map(messageOf).find(Boolean)
      : undefined;
  const message =
    error.message || inner || (typeof code === 'string' ? code : error.name);
  return error.cause ? `${message} (${messageOf(error.cause)})` : message;
}
