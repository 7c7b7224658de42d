import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import {
  CATALOG_FILTER_EXISTS,
  catalogApiRef,
} from '@backstage/plugin-catalog-react';
import { ANNOTATION_MLFLOW_TRACKING_URL } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowApi, mlflowApiRef } from '../api';
import {
  FleetRow,
  toFleetRow,
} from '../components/MlflowFleetContent/fleetRow';

/** Refs per POST /v1/health: small enough that the first rows show early, few requests for 500. */
export const FLEET_BATCH_SIZE = 50;
/** Batches in flight at once; browsers open about six connections per host, leave some to the app. */
const PARALLEL_BATCHES = 3;

/** What the backend answers for instances the user may not see: such instances get no row at all. */
const HIDDEN_ERRORS = new Set(['NotAllowedError', 'NotFoundError']);

/** Only what the table reads, so 500 entities stay a small answer. */
const ENTITY_FIELDS = [
  'kind',
  'metadata.namespace',
  'metadata.name',
  'metadata.title',
  'metadata.annotations',
  'spec.owner',
  'spec.lifecycle',
];

/** The last rows per API instance, shown at once when the page opens again while they reload. */
const lastRows = new WeakMap<MlflowApi, Map<string, FleetRow>>();

/** What the fleet page needs to show. */
export type MlflowFleetState = {
  /** One row per instance the user may see whose report is in, in no particular order. */
  rows: FleetRow[];
  /** Nothing to show yet: the catalog query or the first batch is still running. */
  loading: boolean;
  /** Reports are being requested; rows on screen stay until their new report arrives. */
  refreshing: boolean;
  /** The catalog query failed: there is no list of instances at all. */
  error?: Error;
  /**
   * Batches that failed in the latest load: how many instances they held, whether that was every
   * instance, and the last reason.
   */
  failedBatches?: { instances: number; all: boolean; error: Error };
  /** Loads the list and all reports again; `refresh` asks the backend to check again too. */
  reload: (options?: { refresh?: boolean }) => void;
};

type LoadState = Omit<MlflowFleetState, 'reload' | 'rows'> & {
  rows: Map<string, FleetRow>;
};

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs `task` over the items with at most `parallel` running at a time. */
async function forEachLimited<T>(
  items: T[],
  parallel: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      await task(items[next++]);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * Lists the MLflow instances in the catalog and requests their health reports in batches through the
 * fleet endpoint, which answers from the backend's cache where it can. Rows appear batch by batch,
 * and only for instances whose report the backend lets the user read.
 */
export function useMlflowFleet(): MlflowFleetState {
  const catalogApi = useApi(catalogApiRef);
  const mlflowApi = useApi(mlflowApiRef);
  const [state, setState] = useState<LoadState>(() => {
    const cached = lastRows.get(mlflowApi);
    return {
      rows: cached ?? new Map(),
      loading: !cached,
      refreshing: true,
    };
  });
  const inFlight = useRef<AbortController | undefined>(undefined);

  const load = useCallback(
    async (refresh: boolean) => {
      // Only the latest load counts: an older one must not overwrite newer rows.
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      const { signal } = controller;
      setState(previous => ({
        rows: previous.rows,
        loading: previous.rows.size === 0,
        refreshing: true,
      }));

      let entities: Entity[];
      try {
        const response = await catalogApi.getEntities({
          filter: {
            kind: 'component',
            [`metadata.annotations.${ANNOTATION_MLFLOW_TRACKING_URL}`]:
              CATALOG_FILTER_EXISTS,
          },
          fields: ENTITY_FIELDS,
        });
        entities = response.items;
      } catch (error) {
        if (!signal.aborted) {
          setState(previous => ({
            rows: previous.rows,
            loading: false,
            refreshing: false,
            error: asError(error),
          }));
        }
        return;
      }
      if (signal.aborted) {
        return;
      }

      const byRef = new Map(entities.map(e => [stringifyEntityRef(e), e]));
      const refs = [...byRef.keys()].sort();
      const batches: string[][] = [];
      for (let i = 0; i < refs.length; i += FLEET_BATCH_SIZE) {
        batches.push(refs.slice(i, i + FLEET_BATCH_SIZE));
      }
      // Instances gone from the catalog leave; the others keep their last row until it is replaced.
      setState(previous => ({
        ...previous,
        rows: new Map([...previous.rows].filter(([ref]) => byRef.has(ref))),
        loading: previous.rows.size === 0 && refs.length > 0,
      }));

      let failed: MlflowFleetState['failedBatches'];
      await forEachLimited(batches, PARALLEL_BATCHES, async batch => {
        if (signal.aborted) {
          return;
        }
        try {
          const { items } = await mlflowApi.getFleetHealth(batch, {
            refresh,
            signal,
          });
          if (signal.aborted) {
            return;
          }
          setState(previous => {
            const rows = new Map(previous.rows);
            for (const item of items) {
              const entity = byRef.get(item.entityRef);
              if (
                !entity ||
                ('error' in item && HIDDEN_ERRORS.has(item.error.name))
              ) {
                rows.delete(item.entityRef);
              } else {
                rows.set(item.entityRef, toFleetRow(entity, item));
              }
            }
            return { ...previous, rows, loading: false };
          });
        } catch (error) {
          if (signal.aborted) {
            return;
          }
          const instances = (failed?.instances ?? 0) + batch.length;
          failed = {
            instances,
            all: instances === refs.length,
            error: asError(error),
          };
        }
      });
      if (signal.aborted) {
        return;
      }
      setState(previous => ({
        rows: previous.rows,
        loading: false,
        refreshing: false,
        failedBatches: failed,
      }));
    },
    [catalogApi, mlflowApi],
  );

  useEffect(() => {
    if (!state.refreshing && !state.error) {
      lastRows.set(mlflowApi, state.rows);
    }
  }, [mlflowApi, state]);

  useEffect(() => {
    load(false);
    return () => inFlight.current?.abort();
  }, [load]);

  const reload = useCallback(
    (options?: { refresh?: boolean }) => {
      load(options?.refresh ?? false);
    },
    [load],
  );

  const rows = useMemo(() => [...state.rows.values()], [state.rows]);
  return {
    rows,
    loading: state.loading,
    refreshing: state.refreshing,
    error: state.error,
    failedBatches: state.failedBatches,
    reload,
  };
}
