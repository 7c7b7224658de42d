import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { mlflowApiRef } from '../api';

/** What a component needs to show an instance's health. */
export type MlflowHealthState = {
  /** The latest report; kept while a refresh runs or after a refresh failed. */
  report?: MlflowHealthReport;
  /** Why the latest request failed, if it did. */
  error?: Error;
  /** The first request is running and there is nothing to show yet. */
  loading: boolean;
  /** A refresh is running; the current report stays on screen. */
  refreshing: boolean;
  /** Asks the backend to check again now. */
  refresh: () => void;
};

type RequestState = {
  report?: MlflowHealthReport;
  error?: Error;
  pending?: 'load' | 'refresh';
};

/** Loads the health report of an entity, and refreshes it on demand. */
export function useMlflowHealth(entityRef: string): MlflowHealthState {
  const mlflowApi = useApi(mlflowApiRef);
  const [state, setState] = useState<RequestState>({ pending: 'load' });
  const inFlight = useRef<AbortController | undefined>(undefined);

  const request = useCallback(
    (refresh: boolean) => {
      // Only the latest answer counts: a slow initial load must not overwrite a refresh.
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      // A refresh keeps the report on screen; a first load (also of another entity) starts empty.
      setState(previous =>
        refresh
          ? {
              report: previous.report,
              error: previous.error,
              pending: 'refresh',
            }
          : { pending: 'load' },
      );
      mlflowApi
        .getHealth(entityRef, { refresh, signal: controller.signal })
        .then(
          report => {
            if (!controller.signal.aborted) {
              setState({ report });
            }
          },
          (error: unknown) => {
            if (!controller.signal.aborted) {
              setState(previous => ({
                report: previous.report,
                error:
                  error instanceof Error ? error : new Error(String(error)),
              }));
            }
          },
        );
    },
    [mlflowApi, entityRef],
  );

  useEffect(() => {
    request(false);
    return () => inFlight.current?.abort();
  }, [request]);

  const refresh = useCallback(() => request(true), [request]);

  return {
    report: state.report,
    error: state.error,
    loading: state.pending === 'load' && !state.report,
    refreshing: state.pending === 'refresh',
    refresh,
  };
}
