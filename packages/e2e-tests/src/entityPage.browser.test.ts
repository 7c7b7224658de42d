import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { Browser, Locator, Page } from 'playwright-core';
import {
  BackstageUnderTest,
  ensureInstance,
  useBackstage,
} from './lib/backstageUnderTest';
import { launchChromium, screenshot, signInAsGuest } from './lib/browser';
import { eventually } from './lib/eventually';
import { demoValues } from './provisionDemo';
import { readStackEnv } from '@internal/stack-env';

/*
 * The MLflow card on the demo instance's entity page, in Debian's Chromium, against the real backend,
 * the local stack and a live MLflow server: the card shows the live status, stopping the server
 * (scaling its Deployment to 0) turns it unhealthy after a refresh, starting it turns it healthy.
 *
 * Uses the Backstage that `scripts/start` runs (app :3000, backend :7007) when it answers
 * (BACKSTAGE_APP_URL / BACKSTAGE_BACKEND_URL override them); otherwise starts the backend with the
 * stack's overlay and serves the built app from it. The demo instance ("demo", the one
 * scripts/provision-demo makes) is created through the template when the catalog lacks it; other
 * MLflow instances, e.g. those of other tests, are never touched.
 * E2E_SCREENSHOT_DIR=docs saves the screenshots used in the plugin README.
 */

jest.setTimeout(40 * 60_000);

const DEMO_INSTANCE = 'demo';
/** The backend refreshes one entity at most this often (mlflow.health.refreshMinIntervalSeconds). */
const REFRESH_MIN_INTERVAL_MS = 10_000;

/** The Deployment of the instance's tracking server, scaled as an operator would. */
class TrackingServerDeployment {
  private readonly apps: AppsV1Api;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly name: string,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  async replicas(): Promise<{ desired: number; ready: number }> {
    const deployment = await this.apps.readNamespacedDeployment({
      name: this.name,
      namespace: this.namespace,
    });
    return {
      desired: deployment.spec?.replicas ?? 0,
      ready: deployment.status?.readyReplicas ?? 0,
    };
  }

  /** Scales to `replicas` and waits until exactly that many pods are ready. */
  async scale(replicas: number, timeoutMs: number): Promise<void> {
    await this.apps.replaceNamespacedDeploymentScale({
      name: this.name,
      namespace: this.namespace,
      body: {
        metadata: { name: this.name, namespace: this.namespace },
        spec: { replicas },
      },
    });
    await eventually(
      async () => {
        const { ready } = await this.replicas();
        if (ready !== replicas) {
          throw new Error(
            `${this.namespace}/${this.name}: ${ready} ready replicas, waiting for ${replicas}`,
          );
        }
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }
}

function healthCard(page: Page): Locator {
  return page.getByRole('region', { name: 'MLflow health' });
}

async function overallStatus(card: Locator): Promise<string> {
  return (
    (await card
      .getByRole('status', { name: 'Overall status' })
      .textContent()) ?? ''
  ).trim();
}

/**
 * Presses the card's refresh button until the overall status reads `word`. The backend refreshes one
 * entity at most every 10 s and answers from its cache in between, so tries are spaced by that.
 */
async function refreshUntil(card: Locator, word: string, timeoutMs: number) {
  const button = card.getByRole('button', { name: 'Refresh health' });
  await eventually(
    async () => {
      await button.click();
      await eventually(
        async () => {
          if (!(await button.isEnabled())) {
            throw new Error('The refresh is still running');
          }
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const status = await overallStatus(card);
      if (status !== word) {
        throw new Error(
          `The card says ${status} after a refresh; waiting for ${word}`,
        );
      }
    },
    { timeoutMs, intervalMs: REFRESH_MIN_INTERVAL_MS + 1000 },
  );
}

/** Saves a picture of just the card when E2E_SCREENSHOT_DIR is set. */
async function screenshotCard(card: Locator, name: string) {
  const dir = process.env.E2E_SCREENSHOT_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    await card.screenshot({ path: join(dir, `${name}.png`) });
  }
}

describe('the MLflow card on the demo instance entity page, in a real browser', () => {
  let backstage: BackstageUnderTest;
  let browser: Browser;
  let page: Page;
  const instance = DEMO_INSTANCE;
  let deployment: TrackingServerDeployment;
  let originalReplicas = 0;

  beforeAll(async () => {
    const stack = readStackEnv();
    backstage = await useBackstage(stack.appConfigPath);

    await ensureInstance(
      backstage,
      demoValues(stack.awsRegion) as { name: string },
      line => process.stdout.write(`[demo] ${line}\n`),
    );
    const token = await backstage.guestToken();

    // Where its server runs, as the health API itself reports it.
    // Waits for the report that names the Deployment, not only for the first answer.
    const kubernetes = await eventually(async () => {
      const res = await fetch(
        `${backstage.backendUrl}/api/mlflow/v1/health/default/component/${instance}`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      if (!res.ok) {
        throw new Error(`Health API answered ${res.status}`);
      }
      const report = (await res.json()) as MlflowHealthReport;
      const check = report.checks.find(c => c.id === 'kubernetes');
      if (check?.id !== 'kubernetes' || !check.details) {
        throw new Error(
          `The health report of ${instance} has no Kubernetes details: ${JSON.stringify(
            check,
          )}`,
        );
      }
      return { ...check, details: check.details };
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(stack.kubeconfig);
    deployment = new TrackingServerDeployment(
      kubeConfig,
      kubernetes.details.namespace,
      kubernetes.details.deployment,
    );
    originalReplicas = Math.max(1, (await deployment.replicas()).desired);

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signInAsGuest(page, backstage.appUrl);
    await page.getByRole('link', { name: 'Create' }).first().waitFor();
  });

  afterAll(async () => {
    // Leave the demo instance running whatever happened above.
    if (deployment && originalReplicas > 0) {
      await deployment.scale(originalReplicas, 180_000);
    }
    await browser?.close();
    await backstage?.stop();
  });

  it('shows the card with the live status of the running instance', async () => {
    await page.goto(
      `${backstage.appUrl}/catalog/default/component/${instance}`,
    );
    const card = healthCard(page);
    await card.getByRole('status', { name: 'Overall status' }).waitFor();

    const rows = card
      .getByRole('list', { name: 'Health checks' })
      .getByRole('listitem');
    expect(await rows.count()).toBe(4);
    expect(await card.getByText(/^MLflow \d+\.\d+\.\d+$/).count()).toBe(1);
    expect(await card.getByText(/^checked \d+ (s|min) ago$/).count()).toBe(1);
    await refreshUntil(card, 'Healthy', 180_000);
    await screenshotCard(card, 'mlflow-card');
    await screenshot(page, 'mlflow-entity-page');
  });

  it('turns unhealthy after a refresh once the MLflow server is stopped', async () => {
    await deployment.scale(0, 120_000);

    const card = healthCard(page);
    await refreshUntil(card, 'Unhealthy', 120_000);
    const trackingRow = card
      .getByRole('list', { name: 'Health checks' })
      .getByRole('listitem')
      .first();
    expect(await trackingRow.textContent()).toMatch(/^ErrorTracking server/);
    await screenshotCard(card, 'mlflow-card-unhealthy');
  });

  it('turns healthy again once the server is started', async () => {
    await deployment.scale(originalReplicas, 300_000);

    const card = healthCard(page);
    await refreshUntil(card, 'Healthy', 180_000);
    const trackingRow = card
      .getByRole('list', { name: 'Health checks' })
      .getByRole('listitem')
      .first();
    expect(await trackingRow.textContent()).toMatch(/^OKTracking server/);
  });

  it('shows the stores, the compliance checklist, the rollout and the links on the MLflow tab', async () => {
    await page.getByRole('link', { name: 'MLflow', exact: true }).click();
    await page.getByText('Database (Amazon RDS)').waitFor();
    await page.getByText('Artifact store (Amazon S3)').waitFor();
    await page.getByText('Kubernetes rollout').waitFor();
    await page.getByText(/required points pass$/).waitFor();

    const links = page.getByRole('list', { name: 'MLflow links' });
    const rdsHref = await links
      .getByRole('link', { name: /^RDS instance/ })
      .getAttribute('href');
    expect(rdsHref).toMatch(
      /^https:\/\/([a-z0-9-]+)\.console\.aws\.amazon\.com\/rds\/home\?region=\1#database:id=/,
    );
    expect(
      await links
        .getByRole('link', { name: 'Kubernetes' })
        .getAttribute('href'),
    ).toBe(`/catalog/default/component/${instance}/kubernetes`);
    await screenshot(page, 'mlflow-tab');
  });
});
