/**
 * A request to the MLflow backend did not answer within the client's time limit.
 *
 * @public
 */
export class MlflowRequestTimeoutError extends Error {
  readonly name = 'MlflowRequestTimeoutError';

  constructor(readonly timeoutMs: number, readonly url: string) {
    super(
      `The MLflow backend did not answer within ${Math.round(
        timeoutMs / 1000,
      )} s (${url})`,
    );
  }
}
