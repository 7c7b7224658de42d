import {
  MlflowCheckId,
  MlflowHealthCheck,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';

/** The check of a report with the given id, typed with its details. */
export function findCheck<TId extends MlflowCheckId>(
  report: MlflowHealthReport,
  id: TId,
): Extract<MlflowHealthCheck, { id: TId }> | undefined {
  return report.checks.find(
    (check): check is Extract<MlflowHealthCheck, { id: TId }> =>
      check.id === id,
  );
}
