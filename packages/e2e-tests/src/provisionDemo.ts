import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { readStackEnv, StackEnv } from '@internal/stack-env';
import {
  LABEL_APP_NAME,
  LABEL_APP_NAME_MLFLOW,
} from '@stateful-mlflow/plugin-mlflow-common';
import { ScaffolderClient } from './lib/scaffolderClient';

/**
 * Provisions one demo MLflow instance through the production template on the local stack, once the
 * backend answers, unless the catalog already shows an MLflow instance. Run by scripts/start in the
 * background (scripts/provision-demo); safe to run again: the actions converge.
 */

export const DEMO_TEMPLATE_REF = 'template:default/mlflow-production';

/** The values the demo instance is created with. */
export function demoValues(region: string): Record<string, unknown> {
  return {
    name: 'demo',
    owner: 'group:default/guests',
    environment: 'dev',
    description:
      'Demo MLflow instance provisioned on the local stack by scripts/start.',
    region,
    cluster: 'local',
    replicas: 1,
    hostname: 'demo.mlflow.localhost',
    // The local node agent runs the pinned MLflow in place of the image; a real cluster pulls it.
    image: 'ghcr.io/acme/mlflow-server:3.1.0',
    // Pod Identity needs no OIDC provider, which the local cluster does not have.
    trustType: 'podIdentity',
  };
}

type Options = {
  baseUrl: string;
  /** The app's URL, for the link to the task page. */
  appUrl: string;
  region: string;
  /** How long to wait for the backend, the template and the first catalog refresh. */
  readyTimeoutMs: number;
  /** How long the provider may take to list the clusters after start (one refresh). */
  catalogSettleMs: number;
  /**
   * Whether the cluster already runs an MLflow Deployment. When it runs none, the catalog cannot
   * show one either and the settle wait is skipped (a first start creates the demo at once).
   */
  clusterHasInstances?: () => Promise<boolean>;
  taskTimeoutMs: number;
  log: (line: string) => void;
};

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) {
        return value;
      }
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Gave up waiting for ${what} after ${timeoutMs / 1000} s`,
      );
    }
    await sleep(2000);
  }
}

async function guestToken(baseUrl: string): Promise<string | undefined> {
  const res = await fetch(`${baseUrl}/api/auth/guest/refresh?env=development`, {
    headers: { 'X-Requested-With': 'XMLHttpRequest' },
  });
  if (!res.ok) {
    return undefined;
  }
  const body = (await res.json()) as { backstageIdentity?: { token?: string } };
  return body.backstageIdentity?.token;
}

/** Names of the MLflow Components in the catalog (tag `mlflow`). */
export async function mlflowComponents(
  baseUrl: string,
  token: string,
): Promise<string[]> {
  const res = await fetch(
    `${baseUrl}/api/catalog/entities/by-query?filter=kind=component,metadata.tags=mlflow&fields=metadata.name`,
    { headers: { Authorization: `Bearer ${token}` } },
  );
  if (!res.ok) {
    throw new Error(`Catalog query failed: ${res.status}`);
  }
  const body = (await res.json()) as {
    items: Array<{ metadata: { name: string } }>;
  };
  return body.items.map(e => e.metadata.name);
}

export async function provisionDemo(
  options: Options,
): Promise<'exists' | 'created'> {
  const { baseUrl, log } = options;
  log(`Waiting for the backend at ${baseUrl}`);
  await waitFor(
    'the backend',
    async () => {
      const res = await fetch(`${baseUrl}/.backstage/health/v1/readiness`);
      return res.ok ? true : undefined;
    },
    options.readyTimeoutMs,
  );
  const token = await waitFor(
    'a guest token',
    () => guestToken(baseUrl),
    options.readyTimeoutMs,
  );
  const headers = { Authorization: `Bearer ${token}` };
  await waitFor(
    `the template ${DEMO_TEMPLATE_REF} in the catalog`,
    async () => {
      const res = await fetch(
        `${baseUrl}/api/catalog/entities/by-name/template/default/mlflow-production`,
        { headers },
      );
      return res.ok ? true : undefined;
    },
    options.readyTimeoutMs,
  );

  // The catalog module lists the clusters shortly after start: when the cluster runs an MLflow
  // Deployment, give the catalog one refresh to show it before deciding.
  const clusterHasInstances = options.clusterHasInstances
    ? await options.clusterHasInstances()
    : true;
  const settleUntil =
    Date.now() + (clusterHasInstances ? options.catalogSettleMs : 0);
  for (;;) {
    const existing = await mlflowComponents(baseUrl, token);
    if (existing.length > 0) {
      log(
        `MLflow instance(s) already in the catalog: ${existing.join(
          ', ',
        )}; nothing to do`,
      );
      return 'exists';
    }
    if (Date.now() > settleUntil) {
      break;
    }
    await sleep(3000);
  }

  log(
    'No MLflow instance in the catalog; creating "demo" through the mlflow-production template',
  );
  const client = new ScaffolderClient(baseUrl, token);
  const taskId = await client.createTask(
    DEMO_TEMPLATE_REF,
    demoValues(options.region),
  );
  log(
    `Task ${taskId} started; follow it at ${options.appUrl}/create/tasks/${taskId}`,
  );
  const result = await client.waitForTask(taskId, {
    timeoutMs: options.taskTimeoutMs,
    onLog: message => log(`  ${message}`),
  });
  if (result.status !== 'completed') {
    throw new Error(
      `The demo task ${result.status}: ${result.log.slice(-1)[0] ?? ''}`,
    );
  }
  log(
    `Demo instance ready in ${Math.round(result.durationMs / 1000)} s: ${
      (
        result.output.links as
          | Array<{ title?: string; url?: string }>
          | undefined
      )
        ?.map(l => `${l.title} ${l.url ?? ''}`.trim())
        .join(', ') ?? ''
    }`,
  );
  return 'created';
}

/**
 * The development backend restarts when a source file changes, and its in-memory database loses the
 * running task: after a failure, wait for the backend and start over, a bounded number of times. The
 * actions converge, so a second run finishes what the first began.
 */
async function provisionDemoAcrossRestarts(options: Options, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await provisionDemo(options);
    } catch (error) {
      if (attempt >= attempts) {
        throw error;
      }
      options.log(
        `Attempt ${attempt} of ${attempts} failed (${
          error instanceof Error ? error.message : String(error)
        }); starting over (the development backend restarts when a source file changes)`,
      );
    }
  }
}

/** Whether any namespace of the stack's cluster holds an MLflow Deployment (by its label). */
async function clusterRunsMlflow(kubeconfigPath: string): Promise<boolean> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const list = await kubeConfig
    .makeApiClient(AppsV1Api)
    .listDeploymentForAllNamespaces({
      labelSelector: `${LABEL_APP_NAME}=${LABEL_APP_NAME_MLFLOW}`,
      limit: 1,
    });
  return list.items.length > 0;
}

if (require.main === module) {
  const log = (line: string) =>
    process.stdout.write(`[provision-demo] ${line}\n`);
  let stack: StackEnv | undefined;
  try {
    stack = readStackEnv();
  } catch (error) {
    log(`No demo instance: ${error}`);
  }
  if (stack) {
    const options: Options = {
      baseUrl: process.env.BACKSTAGE_BACKEND_URL ?? 'http://localhost:7007',
      appUrl: process.env.BACKSTAGE_APP_URL ?? 'http://localhost:3000',
      region: stack.awsRegion,
      readyTimeoutMs: 15 * 60_000,
      catalogSettleMs: 45_000,
      clusterHasInstances: () => clusterRunsMlflow(stack!.kubeconfig),
      taskTimeoutMs: 30 * 60_000,
      log,
    };
    provisionDemoAcrossRestarts(options).catch(error => {
      log(`Failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
  }
}
