import { ResponseError } from '@backstage/errors';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowApi } from '../api';

/** An {@link MlflowApi} whose getHealth answers as the test says. */
export function fakeMlflowApi(
  getHealth: MlflowApi['getHealth'],
): jest.Mocked<MlflowApi> {
  return {
    getHealth: jest.fn(getHealth),
    getFleetHealth: jest.fn<
      ReturnType<MlflowApi['getFleetHealth']>,
      Parameters<MlflowApi['getFleetHealth']>
    >(async () => ({ items: [] })),
  };
}

/** Answers every request with the given report. */
export function answering(report: MlflowHealthReport): MlflowApi['getHealth'] {
  return async () => report;
}

/** A ResponseError as the client builds it from a Backstage error answer. */
export async function responseError(
  statusCode: number,
  name: string,
  message: string,
): Promise<ResponseError> {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name, message },
        request: { method: 'GET', url: '/api/mlflow/v1/health' },
        response: { statusCode },
      }),
      { status: statusCode, headers: { 'Content-Type': 'application/json' } },
    ),
  );
}

/** A promise and the functions that settle it, for holding a request open. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
