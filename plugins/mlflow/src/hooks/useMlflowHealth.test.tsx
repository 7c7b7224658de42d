import { ReactNode } from 'react';
import { act, renderHook, waitFor } from '@testing-library/react';
import { TestApiProvider } from '@backstage/frontend-test-utils';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowApi, mlflowApiRef } from '../api';
import { deferred, fakeMlflowApi } from '../testUtils/fakes';
import { degradedReport, healthyReport } from '../testUtils/reports';
import { useMlflowHealth } from './useMlflowHealth';

function wrapperFor(api: MlflowApi) {
  return ({ children }: { children: ReactNode }) => (
    <TestApiProvider apis={[[mlflowApiRef, api]]}>{children}</TestApiProvider>
  );
}

describe('useMlflowHealth', () => {
  it('never shows the report of the previous entity while the next one loads', async () => {
    const other = deferred<MlflowHealthReport>();
    const api = fakeMlflowApi(async ref =>
      ref === 'component:default/first' ? healthyReport : other.promise,
    );
    const { result, rerender } = renderHook(
      ({ entityRef }) => useMlflowHealth(entityRef),
      {
        initialProps: { entityRef: 'component:default/first' },
        wrapper: wrapperFor(api),
      },
    );
    await waitFor(() => expect(result.current.report).toBe(healthyReport));

    rerender({ entityRef: 'component:default/second' });
    expect(result.current.report).toBeUndefined();
    expect(result.current.loading).toBe(true);

    await act(async () => other.resolve(degradedReport));
    expect(result.current.report).toBe(degradedReport);
  });

  it('ignores an answer that arrives after a newer request', async () => {
    const slowFirstLoad = deferred<MlflowHealthReport>();
    const api = fakeMlflowApi(async (_ref, options) =>
      options?.refresh ? degradedReport : slowFirstLoad.promise,
    );
    const { result } = renderHook(
      () => useMlflowHealth('component:default/first'),
      { wrapper: wrapperFor(api) },
    );

    act(() => result.current.refresh());
    await waitFor(() => expect(result.current.report).toBe(degradedReport));
    await act(async () => slowFirstLoad.resolve(healthyReport));
    expect(result.current.report).toBe(degradedReport);
  });
});
