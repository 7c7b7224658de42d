import { Browser } from 'playwright-core';
import {
  ensureAppBuilt,
  launchChromium,
  screenshot,
  signInAsGuest,
} from './lib/browser';
import { StartedBackend, startBackend } from './lib/startBackend';

jest.setTimeout(600_000);

describe('the app in a real browser', () => {
  let backend: StartedBackend;
  let browser: Browser;

  beforeAll(async () => {
    ensureAppBuilt();
    backend = await startBackend({ appServedByBackend: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('signs in as guest and shows the catalog at /', async () => {
    const page = await browser.newPage({
      viewport: { width: 1400, height: 900 },
    });
    await signInAsGuest(page, backend.baseUrl);
    await page
      .getByRole('heading', { name: /Stateful MLflow Catalog/ })
      .waitFor();
    await page.getByRole('link', { name: 'Create' }).first().waitFor();
    await screenshot(page, 'catalog');
  });
});
