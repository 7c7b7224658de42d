import {
  MlflowCheckStatus,
  MlflowHealthReport,
  MlflowOverallStatus,
} from '@stateful-mlflow/plugin-mlflow-common';

/** One fresh report as the watcher saw it. */
export type HealthSample = {
  /** Milliseconds since the watch started. */
  atMs: number;
  overall: MlflowOverallStatus;
  checks: Partial<Record<string, MlflowCheckStatus>>;
};

/** Reads an instance's report from the health API (`GET /api/mlflow/v1/health/...`). */
export async function readHealth(options: {
  baseUrl: string;
  token: string;
  entity: { namespace: string; kind: string; name: string };
  refresh: boolean;
}): Promise<MlflowHealthReport> {
  const { namespace, kind, name } = options.entity;
  const res = await fetch(
    `${options.baseUrl}/api/mlflow/v1/health/${namespace}/${kind}/${name}${
      options.refresh ? '?refresh=true' : ''
    }`,
    { headers: { Authorization: `Bearer ${options.token}` } },
  );
  if (!res.ok) {
    throw new Error(
      `Health of ${kind}:${namespace}/${name} answered ${
        res.status
      }: ${await res.text()}`,
    );
  }
  return (await res.json()) as MlflowHealthReport;
}

/**
 * Follows an instance's health through an incident: asks for a refresh once per `intervalMs` (not
 * more often than the API's refresh limit, or it answers from its cache) and keeps every fresh
 * report, until `until` is satisfied by the samples so far or `timeoutMs` passes.
 */
export async function watchHealth(options: {
  baseUrl: string;
  token: string;
  entity: { namespace: string; kind: string; name: string };
  intervalMs: number;
  timeoutMs: number;
  until: (samples: HealthSample[]) => boolean;
}): Promise<HealthSample[]> {
  const started = Date.now();
  const samples: HealthSample[] = [];
  let lastCheckedAt = '';
  while (Date.now() - started < options.timeoutMs) {
    const report = await readHealth({ ...options, refresh: true });
    if (report.checkedAt !== lastCheckedAt) {
      lastCheckedAt = report.checkedAt;
      samples.push({
        atMs: Date.now() - started,
        overall: report.overall,
        checks: Object.fromEntries(report.checks.map(c => [c.id, c.status])),
      });
      if (options.until(samples)) {
        return samples;
      }
    }
    await new Promise(r => setTimeout(r, options.intervalMs));
  }
  return samples;
}

/** The index of the first sample with `overall`, at or after `from`; -1 when there is none. */
export function firstWith(
  samples: HealthSample[],
  overall: MlflowOverallStatus,
  from = 0,
): number {
  const index = samples.slice(from).findIndex(s => s.overall === overall);
  return index < 0 ? -1 : index + from;
}

/** "healthy → unhealthy (12 s) → healthy (41 s)": the transitions only. */
export function describeTransitions(samples: HealthSample[]): string {
  return samples
    .filter((s, i) => i === 0 || s.overall !== samples[i - 1].overall)
    .map(
      (s, i) =>
        `${s.overall}${i === 0 ? '' : ` (${Math.round(s.atMs / 1000)} s)`}`,
    )
    .join(' → ');
}
