import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { resolveInstanceNames } from '@stateful-mlflow/plugin-mlflow-common';
import { createHash } from 'node:crypto';

/** An MLflow user of the basic-auth app; the password never goes into a message. */
export type MlflowLogin = { username: string; password: string };

/**
 * The admin login from the instance's auth Secret (`admin-username`, `admin-password`), as a
 * data scientist with access reads it with kubectl.
 */
export async function readAdminLogin(
  kubeConfig: KubeConfig,
  namespace: string,
  secretName: string,
): Promise<MlflowLogin> {
  const secret = await kubeConfig
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ namespace, name: secretName });
  const value = (key: string) => {
    const data = secret.data?.[key];
    if (!data) {
      throw new Error(
        `Secret ${namespace}/${secretName} has no ${key} key (keys: ${Object.keys(
          secret.data ?? {},
        ).join(', ')})`,
      );
    }
    return Buffer.from(data, 'base64').toString('utf8');
  };
  return {
    username: value('admin-username'),
    password: value('admin-password'),
  };
}

/** A run as `GET /api/2.0/mlflow/runs/get` returns it (the fields the tests read). */
export type MlflowRun = {
  info: {
    run_id: string;
    experiment_id: string;
    run_name?: string;
    status: string;
    artifact_uri: string;
  };
  data: {
    params?: Array<{ key: string; value: string }>;
    metrics?: Array<{ key: string; value: number; step?: number }>;
    tags?: Array<{ key: string; value: string }>;
  };
};

/** A model version as `GET /api/2.0/mlflow/model-versions/get` returns it. */
export type MlflowModelVersion = {
  name: string;
  version: string;
  source: string;
  run_id?: string;
  status?: string;
};

/** An error answer of the tracking server, with the status for tests that expect one. */
export class MlflowRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode?: string,
  ) {
    super(message);
    this.name = 'MlflowRequestError';
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * MLflow's public REST API over plain HTTP, as any MLflow client calls it through the Ingress:
 * tracking (`/api/2.0/mlflow/...`) and the artifact proxy of `--serve-artifacts`
 * (`/api/2.0/mlflow-artifacts/artifacts/...`).
 */
export class MlflowTrackingClient {
  constructor(
    readonly trackingUrl: string,
    private readonly requestTimeoutMs = 15_000,
    /** Signs every request in (MLflow's basic-auth app); anonymous without it. */
    private readonly login?: MlflowLogin,
  ) {}

  /** The same server as another user (or anonymously with undefined). */
  as(login: MlflowLogin | undefined): MlflowTrackingClient {
    return new MlflowTrackingClient(
      this.trackingUrl,
      this.requestTimeoutMs,
      login,
    );
  }

  private authHeaders(): Record<string, string> {
    if (!this.login) {
      return {};
    }
    const { username, password } = this.login;
    return {
      Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString(
        'base64',
      )}`,
    };
  }

  private async call<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: Record<string, unknown>,
  ): Promise<T> {
    const url = new URL(`/api/2.0/mlflow/${path}`, this.trackingUrl);
    if (method === 'GET' && body) {
      for (const [key, value] of Object.entries(body)) {
        url.searchParams.set(key, String(value));
      }
    }
    const res = await fetch(url, {
      method,
      headers: {
        ...this.authHeaders(),
        ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
      },
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    const text = await res.text();
    if (!res.ok) {
      let errorCode: string | undefined;
      try {
        errorCode = (JSON.parse(text) as { error_code?: string }).error_code;
      } catch {
        // not JSON (e.g. the ingress answering for a missing backend)
      }
      throw new MlflowRequestError(
        `${method} ${url.pathname} answered ${res.status}: ${text.slice(
          0,
          500,
        )}`,
        res.status,
        errorCode,
      );
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  async createExperiment(name: string): Promise<string> {
    const res = await this.call<{ experiment_id: string }>(
      'POST',
      'experiments/create',
      { name },
    );
    return res.experiment_id;
  }

  async getExperiment(
    experimentId: string,
  ): Promise<{ experiment_id: string; name: string }> {
    const res = await this.call<{
      experiment: { experiment_id: string; name: string };
    }>('GET', 'experiments/get', { experiment_id: experimentId });
    return res.experiment;
  }

  async createRun(experimentId: string, runName: string): Promise<MlflowRun> {
    const res = await this.call<{ run: MlflowRun }>('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: Date.now(),
    });
    return res.run;
  }

  async logBatch(
    runId: string,
    batch: {
      params: Record<string, string>;
      metrics: Array<{ key: string; value: number; step: number }>;
      tags: Record<string, string>;
    },
  ): Promise<void> {
    const timestamp = Date.now();
    await this.call('POST', 'runs/log-batch', {
      run_id: runId,
      params: Object.entries(batch.params).map(([key, value]) => ({
        key,
        value,
      })),
      metrics: batch.metrics.map(m => ({ ...m, timestamp })),
      tags: Object.entries(batch.tags).map(([key, value]) => ({ key, value })),
    });
  }

  async finishRun(runId: string): Promise<void> {
    await this.call('POST', 'runs/update', {
      run_id: runId,
      status: 'FINISHED',
      end_time: Date.now(),
    });
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const res = await this.call<{ run: MlflowRun }>('GET', 'runs/get', {
      run_id: runId,
    });
    return res.run;
  }

  /** Every value of one metric, in step order. */
  async metricHistory(
    runId: string,
    key: string,
  ): Promise<Array<{ step: number; value: number }>> {
    const res = await this.call<{
      metrics?: Array<{ step?: number | string; value: number }>;
    }>('GET', 'metrics/get-history', { run_id: runId, metric_key: key });
    return (res.metrics ?? [])
      .map(m => ({ step: Number(m.step ?? 0), value: m.value }))
      .sort((a, b) => a.step - b.step);
  }

  /**
   * The path of a run artifact under the artifact proxy: the run's artifact URI
   * (`mlflow-artifacts:/<experiment>/<run>/artifacts`) without its scheme, plus the file.
   */
  static proxiedArtifactPath(run: MlflowRun, file: string): string {
    const uri = run.info.artifact_uri;
    const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/+(.*)$/.exec(uri);
    if (!match) {
      throw new Error(
        `The run's artifact URI ${uri} is not served by the tracking server (expected mlflow-artifacts:/...): is --serve-artifacts on?`,
      );
    }
    return `${match[1].replace(/\/+$/, '')}/${file}`;
  }

  private artifactUrl(path: string): URL {
    return new URL(
      `/api/2.0/mlflow-artifacts/artifacts/${path
        .split('/')
        .map(encodeURIComponent)
        .join('/')}`,
      this.trackingUrl,
    );
  }

  async uploadArtifact(path: string, data: Uint8Array): Promise<void> {
    const res = await fetch(this.artifactUrl(path), {
      method: 'PUT',
      headers: {
        ...this.authHeaders(),
        'Content-Type': 'application/octet-stream',
      },
      body: new Uint8Array(data),
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    if (!res.ok) {
      throw new MlflowRequestError(
        `Uploading artifact ${path} answered ${res.status}: ${(
          await res.text()
        ).slice(0, 500)}`,
        res.status,
      );
    }
  }

  async downloadArtifact(path: string): Promise<Uint8Array> {
    const res = await fetch(this.artifactUrl(path), {
      headers: this.authHeaders(),
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    if (!res.ok) {
      throw new MlflowRequestError(
        `Downloading artifact ${path} answered ${res.status}: ${(
          await res.text()
        ).slice(0, 500)}`,
        res.status,
      );
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  async createRegisteredModel(name: string): Promise<void> {
    await this.call('POST', 'registered-models/create', { name });
  }

  async createModelVersion(options: {
    name: string;
    source: string;
    runId: string;
  }): Promise<MlflowModelVersion> {
    const res = await this.call<{ model_version: MlflowModelVersion }>(
      'POST',
      'model-versions/create',
      { name: options.name, source: options.source, run_id: options.runId },
    );
    return res.model_version;
  }

  async getModelVersion(
    name: string,
    version: string,
  ): Promise<MlflowModelVersion> {
    const res = await this.call<{ model_version: MlflowModelVersion }>(
      'GET',
      'model-versions/get',
      { name, version },
    );
    return res.model_version;
  }
}

/** Instance `name`'s tracking URL on the stack, signed in with the admin login of its auth Secret. */
export async function adminTrackingClient(
  kubeConfig: KubeConfig,
  name: string,
): Promise<{ client: MlflowTrackingClient; login: MlflowLogin }> {
  const { namespace, authSecretName } = resolveInstanceNames({ name });
  const login = await readAdminLogin(kubeConfig, namespace, authSecretName);
  return {
    client: new MlflowTrackingClient(
      `http://${name}.mlflow.localhost`,
      15_000,
      login,
    ),
    login,
  };
}

/**
 * Logs what a data-survival test reads back later: run `runName` in a new experiment with param
 * lr=0.01, metric loss=0.25 at step 3, tag stage=before and `artifact` as model.bin, then finished.
 */
export async function logRunWithArtifact(
  client: MlflowTrackingClient,
  experimentName: string,
  runName: string,
  artifact: Uint8Array,
): Promise<{ experimentId: string; runId: string; artifactPath: string }> {
  const experimentId = await client.createExperiment(experimentName);
  const runId = (await client.createRun(experimentId, runName)).info.run_id;
  await client.logBatch(runId, {
    params: { lr: '0.01' },
    metrics: [{ key: 'loss', value: 0.25, step: 3 }],
    tags: { stage: 'before' },
  });
  const artifactPath = `${experimentId}/${runId}/artifacts/model.bin`;
  await client.uploadArtifact(artifactPath, artifact);
  await client.finishRun(runId);
  return { experimentId, runId, artifactPath };
}
