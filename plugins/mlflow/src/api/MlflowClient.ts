import {
  CompoundEntityRef,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  MlflowFleetHealthRequest,
  MlflowFleetHealthResponse,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowApi, MlflowGetHealthOptions } from './MlflowApi';
import { MlflowRequestTimeoutError } from './MlflowRequestTimeoutError';

/**
 * The backend runs its checks under their own timeouts (a few seconds each), so an answer slower
 * than this means the backend or the network is stuck, not that a check is slow.
 */
const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Options of {@link MlflowClient}.
 *
 * @public
 */
export type MlflowClientOptions = {
  discoveryApi: DiscoveryApi;
  fetchApi: FetchApi;
  /** Time after which a request is aborted and fails with {@link MlflowRequestTimeoutError}. */
  timeoutMs?: number;
};

/**
 * {@link MlflowApi} over HTTP, against the `mlflow` backend plugin.
 *
 * @public
 */
export class MlflowClient implements MlflowApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;
  private readonly timeoutMs: number;

  constructor(options: MlflowClientOptions) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async getHealth(
    entityRef: string | CompoundEntityRef,
    options: MlflowGetHealthOptions = {},
  ): Promise<MlflowHealthReport> {
    const { kind, namespace, name } = parseEntityRef(entityRef);
    const path = [namespace, kind.toLocaleLowerCase('en-US'), name]
      .map(encodeURIComponent)
      .join('/');
    const query = options.refresh ? '?refresh=true' : '';
    return this.request<MlflowHealthReport>(
      `/v1/health/${path}${query}`,
      { method: 'GET' },
      options.signal,
    );
  }

  async getFleetHealth(
    entityRefs: Array<string | CompoundEntityRef>,
    options: MlflowGetHealthOptions = {},
  ): Promise<MlflowFleetHealthResponse> {
    const body: MlflowFleetHealthRequest = {
      entityRefs: entityRefs.map(ref =>
        stringifyEntityRef(parseEntityRef(ref)),
      ),
    };
    return this.request<MlflowFleetHealthResponse>(
      `/v1/health${options.refresh ? '?refresh=true' : ''}`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      },
      options.signal,
    );
  }

  private async request<T>(
    path: string,
    init: RequestInit,
    callerSignal: AbortSignal | undefined,
  ): Promise<T> {
    const url = `${await this.discoveryApi.getBaseUrl('mlflow')}${path}`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const forwardCallerAbort = () => controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) {
      forwardCallerAbort();
    }
    callerSignal?.addEventListener('abort', forwardCallerAbort);
    try {
      const response = await this.fetchApi.fetch(url, {
        ...init,
        signal: controller.signal,
      });
      if (!response.ok) {
        throw await ResponseError.fromResponse(response);
      }
      return (await response.json()) as T;
    } catch (error) {
      if (timedOut) {
        throw new MlflowRequestTimeoutError(this.timeoutMs, url);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', forwardCallerAbort);
    }
  }
}
