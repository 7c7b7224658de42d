import { ResponseError } from '@backstage/errors';
import { healthyReport } from '../testUtils/reports';
import { MlflowClient } from './MlflowClient';
import { MlflowRequestTimeoutError } from './MlflowRequestTimeoutError';

const discoveryApi = {
  getBaseUrl: async (pluginId: string) =>
    `http://backstage.test/api/${pluginId}`,
};

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** A fetch that never answers but honours its abort signal, as the browser's does. */
const hangingFetch: typeof fetch = (_input, init) =>
  new Promise((_resolve, reject) => {
    const rejectAsAborted = () =>
      reject(new DOMException('The operation was aborted.', 'AbortError'));
    if (init?.signal?.aborted) {
      rejectAsAborted();
    }
    init?.signal?.addEventListener('abort', rejectAsAborted);
  });

describe('MlflowClient', () => {
  it('gets the report of an entity from the mlflow backend', async () => {
    const fetch = jest.fn(async () => jsonResponse(200, healthyReport));
    const client = new MlflowClient({ discoveryApi, fetchApi: { fetch } });

    await expect(
      client.getHealth('component:default/mlflow-demo'),
    ).resolves.toEqual(healthyReport);
    expect(fetch).toHaveBeenCalledWith(
      'http://backstage.test/api/mlflow/v1/health/default/component/mlflow-demo',
      expect.objectContaining({ method: 'GET' }),
    );
  });

  it('asks for a fresh check on refresh and encodes the ref parts', async () => {
    const fetch = jest.fn(async () => jsonResponse(200, healthyReport));
    const client = new MlflowClient({ discoveryApi, fetchApi: { fetch } });

    await client.getHealth(
      { kind: 'Component', namespace: 'team a', name: 'ml/flow' },
      { refresh: true },
    );
    expect(fetch).toHaveBeenCalledWith(
      'http://backstage.test/api/mlflow/v1/health/team%20a/component/ml%2Fflow?refresh=true',
      expect.anything(),
    );
  });

  it('turns error answers into ResponseErrors that keep the status', async () => {
    const fetch = jest.fn(async () =>
      jsonResponse(404, {
        error: { name: 'NotFoundError', message: 'No entity named x' },
        request: { method: 'GET', url: '/v1/health/default/component/x' },
        response: { statusCode: 404 },
      }),
    );
    const client = new MlflowClient({ discoveryApi, fetchApi: { fetch } });

    const error = await client
      .getHealth('component:default/x')
      .catch((e: unknown) => e);
    expect(ResponseError.is(error)).toBe(true);
    expect(error).toMatchObject({
      statusCode: 404,
      cause: { name: 'NotFoundError', message: 'No entity named x' },
    });
  });

  it('gives up after its timeout with a timeout error', async () => {
    const client = new MlflowClient({
      discoveryApi,
      fetchApi: { fetch: hangingFetch },
      timeoutMs: 50,
    });

    const error = await client
      .getHealth('component:default/mlflow-demo')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowRequestTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 50 });
  });

  it('passes a caller abort on as an abort, not as a timeout', async () => {
    const client = new MlflowClient({
      discoveryApi,
      fetchApi: { fetch: hangingFetch },
      timeoutMs: 10_000,
    });
    const caller = new AbortController();

    const pending = client
      .getHealth('component:default/mlflow-demo', { signal: caller.signal })
      .catch((e: unknown) => e);
    caller.abort();
    const error = await pending;
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(error).not.toBeInstanceOf(MlflowRequestTimeoutError);
  });

  it('posts the refs of a fleet request in their full form', async () => {
    const fetch = jest.fn(async () =>
      jsonResponse(200, {
        items: [{ entityRef: healthyReport.entityRef, report: healthyReport }],
      }),
    );
    const client = new MlflowClient({ discoveryApi, fetchApi: { fetch } });

    const response = await client.getFleetHealth(['component:mlflow-demo']);
    expect(response.items).toHaveLength(1);
    expect(fetch).toHaveBeenCalledWith(
      'http://backstage.test/api/mlflow/v1/health',
      expect.objectContaining({
        method: 'POST',
        body: JSON.stringify({ entityRefs: ['component:default/mlflow-demo'] }),
      }),
    );
  });

  it('asks for fresh fleet checks on refresh', async () => {
    const fetch = jest.fn(async () => jsonResponse(200, { items: [] }));
    const client = new MlflowClient({ discoveryApi, fetchApi: { fetch } });

    await client.getFleetHealth(['component:default/mlflow-demo'], {
      refresh: true,
    });
    expect(fetch).toHaveBeenCalledWith(
      'http://backstage.test/api/mlflow/v1/health?refresh=true',
      expect.objectContaining({ method: 'POST' }),
    );
  });
});
