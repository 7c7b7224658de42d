import { KubeConfig } from '@kubernetes/client-node';
import { readStackEnv } from '@internal/stack-env';
import { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  BackstageUnderTest,
  ensureInstance,
  useBackstage,
} from './lib/backstageUnderTest';
import { launchChromium, screenshot, signInAsGuest } from './lib/browser';
import { eventually } from './lib/eventually';
import { TrackingServerDeployment } from './lib/trackingServerDeployment';
import { demoValues } from './provisionDemo';

/*
 * The MLflow fleet page (/mlflow) in Debian's Chromium, against the real backend, the local stack and
 * live MLflow servers: the demo instance and a second one are listed; stopping the second (scaling
 * its Deployment to 0) shows it unhealthy after a refresh without reloading the page; the status
 * filter "Unhealthy" shows it and exactly the other rows that were unhealthy (the demo only if it is
 * down itself); the page's URL opened anew shows the same view.
 *
 * Both instances are created through the template when the catalog lacks them and are kept for the
 * next run (the demo is the one scripts/provision-demo makes). The second is started again at the end.
 * E2E_SCREENSHOT_DIR=docs saves the screenshot used in the READMEs.
 */

jest.setTimeout(45 * 60_000);

const DEMO = 'demo';
const SECOND = 'fleet-second';
/** The backend refreshes one entity at most this often (mlflow.health.refreshMinIntervalSeconds). */
const REFRESH_MIN_INTERVAL_MS = 10_000;

function fleet(page: Page): Locator {
  return page.getByRole('region', { name: 'MLflow fleet' });
}

function rowOf(page: Page, name: string): Locator {
  return fleet(page).locator(
    `tbody tr[data-entity-ref="component:default/${name}"]`,
  );
}

/** Waits until every batch answered (the region is no longer busy). */
async function settled(page: Page): Promise<void> {
  await page
    .locator('section[aria-label="MLflow fleet"][aria-busy="false"]')
    .waitFor({ timeout: 120_000 });
}

async function statusOf(row: Locator): Promise<string | null> {
  return row.locator('span[data-status]').getAttribute('data-status');
}

/**
 * Presses "Refresh health" until `name`'s row satisfies `wanted`. The backend checks one entity
 * again at most every 10 s and answers from its cache in between, so presses are spaced by that.
 */
async function refreshUntil(
  page: Page,
  name: string,
  wanted: (status: string | null) => boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  await eventually(
    async () => {
      await fleet(page).getByRole('button', { name: 'Refresh health' }).click();
      await settled(page);
      const status = await statusOf(rowOf(page, name));
      if (!wanted(status)) {
        throw new Error(
          `${name} is ${status} after a refresh; waiting for ${what}`,
        );
      }
    },
    { timeoutMs, intervalMs: REFRESH_MIN_INTERVAL_MS + 1000 },
  );
}

/** Opens `url`, signing in as guest first if the app asks. */
async function openSignedIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  const enter = page.getByRole('button', { name: 'Enter' });
  await enter.or(fleet(page)).first().waitFor({ timeout: 120_000 });
  if (await enter.isVisible()) {
    await enter.click();
  }
  await settled(page);
}

/**
 * The rows shown (entity ref and status) and the fleet summary, read in one go in the page, so
 * both come from the same render.
 */
async function filteredView(page: Page): Promise<{
  rows: Array<{ ref: string | null; status: string | null }>;
  summary: string | null;
}> {
  return page.evaluate(() => {
    const region = document.querySelector('section[aria-label="MLflow fleet"]');
    return {
      rows: Array.from(region?.querySelectorAll('tbody tr') ?? []).map(row => ({
        ref: row.getAttribute('data-entity-ref'),
        status:
          row.querySelector('span[data-status]')?.getAttribute('data-status') ??
          null,
      })),
      summary:
        region?.querySelector('[aria-label="Fleet summary"]')?.textContent ??
        null,
    };
  });
}

/**
 * Every row shown is unhealthy, the stopped instance among them, and there are as many as the
 * summary counts unhealthy in the whole fleet: a filtered view judged against itself.
 */
function expectOnlyUnhealthy(view: Awaited<ReturnType<typeof filteredView>>) {
  expect(view.rows.map(row => row.status)).toEqual(
    view.rows.map(() => 'unhealthy'),
  );
  expect(view.rows.map(row => row.ref)).toContain(
    `component:default/${SECOND}`,
  );
  expect(view.summary).toMatch(
    new RegExp(
      `^${view.rows.length} of \\d+ instances: (.*, )?${view.rows.length} unhealthy(,|$)`,
    ),
  );
}

describe('the MLflow fleet page, in a real browser', () => {
  let backstage: BackstageUnderTest;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let second: TrackingServerDeployment;
  let originalReplicas = 0;

  beforeAll(async () => {
    const stack = readStackEnv();
    backstage = await useBackstage(stack.appConfigPath);
    const log = (name: string) => (line: string) =>
      process.stdout.write(`[${name}] ${line}\n`);
    await ensureInstance(
      backstage,
      demoValues(stack.awsRegion) as { name: string },
      log(DEMO),
    );
    await ensureInstance(
      backstage,
      {
        ...demoValues(stack.awsRegion),
        name: SECOND,
        hostname: `${SECOND}.mlflow.localhost`,
        description: 'Second MLflow instance of the fleet page browser test.',
      },
      log(SECOND),
    );

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(stack.kubeconfig);
    second = await TrackingServerDeployment.of({
      kubeConfig,
      backendUrl: backstage.backendUrl,
      token: await backstage.guestToken(),
      entityName: SECOND,
    });
    originalReplicas = Math.max(1, (await second.replicas()).desired);
    // A previous run that stopped half-way may have left it stopped.
    await second.scale(originalReplicas, 300_000);

    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1600, height: 900 },
    });
    page = await context.newPage();
    await signInAsGuest(page, backstage.appUrl);
    await page.getByRole('link', { name: 'Create' }).first().waitFor();
  });

  afterAll(async () => {
    // Leave the second instance running whatever happened above.
    if (second && originalReplicas > 0) {
      await second.scale(originalReplicas, 300_000);
    }
    await browser?.close();
    await backstage?.stop();
  });

  it('is in the sidebar and lists the demo and the second instance', async () => {
    await page.getByRole('link', { name: 'MLflow fleet' }).click();
    await settled(page);
    expect(new URL(page.url()).pathname).toBe('/mlflow');

    await rowOf(page, DEMO).waitFor();
    await rowOf(page, SECOND).waitFor();
    // The second must be running before it is stopped, or its turning unhealthy proves nothing.
    await refreshUntil(
      page,
      SECOND,
      status => status !== null && status !== 'unhealthy',
      'a running instance',
      180_000,
    );
    const cells = rowOf(page, SECOND).locator('td');
    // MLflow version, environment, owner, region, cluster, replicas ready
    expect(await cells.nth(2).textContent()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await cells.nth(3).textContent()).not.toBe('—');
    expect(await cells.nth(4).textContent()).toBe('guests');
    expect(await cells.nth(7).textContent()).toBe(
      `${originalReplicas}/${originalReplicas}`,
    );
    await screenshot(page, 'mlflow-fleet');
  });

  it('shows the stopped instance as unhealthy after a refresh, without reloading the page', async () => {
    await page.evaluate(() => {
      (window as unknown as { fleetPageMarker: boolean }).fleetPageMarker =
        true;
    });
    await second.scale(0, 120_000);

    await refreshUntil(
      page,
      SECOND,
      status => status === 'unhealthy',
      'unhealthy',
      120_000,
    );
    expect(
      await page.evaluate(
        () =>
          (window as unknown as { fleetPageMarker?: boolean }).fleetPageMarker,
      ),
    ).toBe(true);
  });

  it('filters to unhealthy instances: the stopped one, none of the others', async () => {
    expect(await statusOf(rowOf(page, SECOND))).toBe('unhealthy');

    await fleet(page).getByRole('button', { name: 'Status All' }).click();
    await page.getByRole('option', { name: 'Unhealthy' }).click();
    await page.waitForURL(
      url => url.searchParams.get('status') === 'unhealthy',
    );

    // Other tests' instances share the stack and may change state at any time, so the page is
    // judged against itself, in one snapshot: every row shown is unhealthy, the stopped one among
    // them, and there are as many as the summary counts unhealthy in the whole fleet.
    expectOnlyUnhealthy(await filteredView(page));
    await screenshot(page, 'mlflow-fleet-unhealthy');
  });

  it('reproduces the view from its URL in a new tab', async () => {
    const url = page.url();
    const other = await context.newPage();
    try {
      await openSignedIn(other, url);
      expect(new URL(other.url()).searchParams.get('status')).toBe('unhealthy');
      await expect(
        fleet(other).getByRole('button', { name: 'Status Unhealthy' }).count(),
      ).resolves.toBe(1);
      // The new tab loads the fleet anew, when other tests' instances may have come, gone or
      // changed: the same filter gives the same kind of view, judged within the new tab.
      expectOnlyUnhealthy(await filteredView(other));
    } finally {
      await other.close();
    }
  });
});
