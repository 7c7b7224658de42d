import { ensureAppBuilt } from './browser';
import { stackSuperuser } from './instanceDatabase';
import { eventually } from './eventually';
import { ScaffolderClient } from './scaffolderClient';
import { StartedBackend, startBackend } from './startBackend';
import { LOCAL_STACK_DEFAULTS } from './templateValues';
import { DEMO_TEMPLATE_REF, mlflowComponents } from '../provisionDemo';

/** The Backstage a browser test drives: the app's URL, the backend's, and a guest token. */
export type BackstageUnderTest = {
  appUrl: string;
  backendUrl: string;
  guestToken(): Promise<string>;
  stop(): Promise<void>;
};

const RUNNING_BACKEND_URL =
  process.env.BACKSTAGE_BACKEND_URL ?? 'http://localhost:7007';
const RUNNING_APP_URL =
  process.env.BACKSTAGE_APP_URL ?? 'http://localhost:3000';

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

async function guestTokenOf(backendUrl: string): Promise<string> {
  const res = await fetch(
    `${backendUrl}/api/auth/guest/refresh?env=development`,
    { headers: { 'X-Requested-With': 'XMLHttpRequest' } },
  );
  const body = (await res.json()) as {
    backstageIdentity?: { token?: string };
  };
  if (!res.ok || !body.backstageIdentity?.token) {
    throw new Error(`Guest sign-in failed: ${res.status}`);
  }
  return body.backstageIdentity.token;
}

/**
 * The Backstage that `scripts/start` runs (app :3000, backend :7007; BACKSTAGE_APP_URL and
 * BACKSTAGE_BACKEND_URL override them) when it answers; otherwise a backend of our own, started with
 * the stack's config overlay when given, that serves the freshly built app.
 */
export async function useBackstage(
  stackAppConfig?: string,
): Promise<BackstageUnderTest> {
  if (
    (await answers(`${RUNNING_BACKEND_URL}/.backstage/health/v1/readiness`)) &&
    (await answers(RUNNING_APP_URL))
  ) {
    return {
      appUrl: RUNNING_APP_URL,
      backendUrl: RUNNING_BACKEND_URL,
      guestToken: () => guestTokenOf(RUNNING_BACKEND_URL),
      stop: async () => {},
    };
  }
  ensureAppBuilt();
  const backend: StartedBackend = await startBackend({
    appServedByBackend: true,
    configPaths: stackAppConfig ? [stackAppConfig] : [],
  });
  return {
    appUrl: backend.baseUrl,
    backendUrl: backend.baseUrl,
    guestToken: () => backend.guestToken(),
    stop: () => backend.stop(),
  };
}

/**
 * Creates the MLflow instance `values.name` through the production template unless the catalog
 * already lists it, then waits until the catalog does. Safe to run again: an existing instance is
 * reused as it is.
 */
export async function ensureInstance(
  backstage: BackstageUnderTest,
  values: Record<string, unknown> & { name: string },
  log: (line: string) => void,
): Promise<void> {
  // Test files running side by side (the browser tests all use the demo) may ensure the same
  // instance at once: one creates it, the others wait and then find it in the catalog.
  const lock = await instanceLock(values.name);
  try {
    await ensureInstanceLocked(backstage, values, log);
  } finally {
    await lock.release();
  }
}

/**
 * A session-level advisory lock on the stack's PostgreSQL, named after the instance, held across
 * jest workers until released.
 */
async function instanceLock(
  name: string,
): Promise<{ release(): Promise<void> }> {
  const client = await stackSuperuser();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [
      `e2e-tests ensureInstance ${name}`,
    ]);
  } catch (error) {
    await client.end();
    throw error;
  }
  return { release: () => client.end() };
}

async function ensureInstanceLocked(
  backstage: BackstageUnderTest,
  values: Record<string, unknown> & { name: string },
  log: (line: string) => void,
): Promise<void> {
  const token = await backstage.guestToken();
  const inCatalog = async () =>
    (await mlflowComponents(backstage.backendUrl, token)).includes(values.name);
  // A backend that just started lists the clusters' instances on its first provider pass: give it
  // that pass (refreshIntervalSeconds, 30 s by default) before creating the instance anew.
  const listed = await eventually(
    async () => {
      if (!(await inCatalog())) {
        throw new Error(`${values.name} is not in the catalog yet`);
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 3000 },
  ).catch(() => false);
  if (listed) {
    return;
  }
  // Right after start the catalog has not read the template's location yet.
  await eventually(
    async () => {
      const res = await fetch(
        `${backstage.backendUrl}/api/catalog/entities/by-name/template/default/mlflow-production`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      if (!res.ok) {
        throw new Error(`${DEMO_TEMPLATE_REF} is not in the catalog yet`);
      }
    },
    { timeoutMs: 5 * 60_000, intervalMs: 3000 },
  );
  const result = await new ScaffolderClient(
    backstage.backendUrl,
    token,
  ).runTemplate(
    DEMO_TEMPLATE_REF,
    { ...LOCAL_STACK_DEFAULTS, ...values },
    { timeoutMs: 20 * 60_000, onLog: log },
  );
  if (result.status !== 'completed') {
    throw new Error(
      `Creating the instance ${values.name} ${result.status}: ${
        result.log.slice(-1)[0]
      }`,
    );
  }
  // The catalog module finds the new Deployment on its next pass over the clusters.
  await eventually(
    async () => {
      if (!(await inCatalog())) {
        throw new Error(`${values.name} is not in the catalog yet`);
      }
    },
    { timeoutMs: 5 * 60_000, intervalMs: 3000 },
  );
}
