import { ResponseError } from '@backstage/errors';
import { MlflowRequestTimeoutError } from '../../api';

/** What went wrong, in words for the person looking at the entity page. */
export type MlflowHealthErrorDescription = {
  /** Short: what failed and what to do. */
  title: string;
  /** Which kind of failure, for styling and tests. */
  reason:
    | 'unauthenticated'
    | 'forbidden'
    | 'notFound'
    | 'timeout'
    | 'rateLimited'
    | 'badRequest'
    | 'unreachable'
    | 'other';
};

/** Tells apart the failures a user can act on differently: sign in, wait, or ask for access. */
export function describeMlflowHealthError(
  error: Error,
): MlflowHealthErrorDescription {
  if (error instanceof MlflowRequestTimeoutError) {
    return {
      reason: 'timeout',
      title: `The health check timed out: no answer from the backend within ${Math.round(
        error.timeoutMs / 1000,
      )} s`,
    };
  }
  if (ResponseError.is(error)) {
    switch (error.statusCode) {
      case 401:
        return {
          reason: 'unauthenticated',
          title:
            'You are not signed in or your session has expired: sign in again',
        };
      case 403:
        return {
          reason: 'forbidden',
          title:
            'You are not allowed to see the health of this MLflow instance',
        };
      case 404:
        return {
          reason: 'notFound',
          title: 'Entity not found, or you may not see it',
        };
      case 429:
        return {
          reason: 'rateLimited',
          title: 'Checked too often: wait a moment before refreshing again',
        };
      case 400:
        return {
          reason: 'badRequest',
          title: `The backend refused the request: ${error.cause.message}`,
        };
      case 504:
        return {
          reason: 'timeout',
          title: 'The health check timed out in the backend',
        };
      default:
        return {
          reason: 'other',
          title: `The MLflow backend failed (${error.statusCode} ${error.statusText})`,
        };
    }
  }
  // fetch rejects with a TypeError when the network or the backend is down.
  if (error.name === 'TypeError') {
    return { reason: 'unreachable', title: 'Could not reach the backend' };
  }
  return { reason: 'other', title: 'Could not load the MLflow health report' };
}
