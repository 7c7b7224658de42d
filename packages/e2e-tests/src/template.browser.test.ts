import { Browser, Page } from 'playwright-core';
import {
  ensureAppBuilt,
  launchChromium,
  screenshot,
  signInAsGuest,
} from './lib/browser';
import { StartedBackend, startBackend } from './lib/startBackend';

jest.setTimeout(600_000);

const TEMPLATE_PATH = '/create/templates/default/mlflow-production';

/** Opens the mlflow-production Create form as guest. */
async function openForm(browser: Browser, baseUrl: string): Promise<Page> {
  const page = await browser.newPage({
    viewport: { width: 1400, height: 1000 },
  });
  await signInAsGuest(page, baseUrl);
  await page.getByRole('link', { name: 'Create' }).first().waitFor();
  await page.goto(`${baseUrl}${TEMPLATE_PATH}`);
  await page.getByRole('textbox', { name: 'Name', exact: true }).waitFor();
  return page;
}

/** Fills the Instance page: name, owner (typed into the OwnerPicker), environment. */
async function fillInstancePage(page: Page, name: string) {
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  // The OwnerPicker accepts a typed entity ref (arbitrary values are allowed) once it loses focus.
  const owner = page.getByRole('textbox', { name: 'Owner', exact: true });
  await owner.fill('group:default/guests');
  await owner.press('Tab');
  await page
    .getByRole('textbox', { name: 'Description', exact: true })
    .fill('Created by the browser test');
}

describe('the mlflow-production Create form in a real browser', () => {
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

  it('shows the validation message for a bad instance name on the first page', async () => {
    const page = await openForm(browser, backend.baseUrl);
    await fillInstancePage(page, 'Bad_Name!');
    await page.getByRole('button', { name: 'Next' }).click();

    await page
      .getByText(/must match pattern/)
      .first()
      .waitFor();
    // Still on the first page: the Database page's first field is not shown.
    expect(
      await page.getByRole('textbox', { name: /^AWS region/ }).count(),
    ).toBe(0);
    await screenshot(page, 'template-bad-name');
    await page.close();
  });

  it('defaults the database to Multi-AZ, deletion protection and 14-day backups in prod', async () => {
    const page = await openForm(browser, backend.baseUrl);
    await fillInstancePage(page, 'browser-prod');
    await page.getByRole('button', { name: /^Environment/ }).click();
    await page.getByRole('option', { name: 'Production' }).click();
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('textbox', { name: /^AWS region/ }).waitFor();
    expect(
      await page
        .getByRole('textbox', { name: 'Instance class', exact: true })
        .inputValue(),
    ).toBe('db.m7g.large');
    expect(
      await page
        .getByRole('spinbutton', { name: 'Storage (GiB)', exact: true })
        .inputValue(),
    ).toBe('100');
    expect(
      await page.getByRole('checkbox', { name: /^Multi-AZ/ }).isChecked(),
    ).toBe(true);
    expect(
      await page
        .getByRole('checkbox', { name: /^Deletion protection/ })
        .isChecked(),
    ).toBe(true);
    expect(
      await page
        .getByRole('spinbutton', { name: /^Backup retention/ })
        .inputValue(),
    ).toBe('14');
    await screenshot(page, 'template-prod-database-page');
    await page.close();
  });

  it('walks every page with good values to the review step', async () => {
    const page = await openForm(browser, backend.baseUrl);
    await fillInstancePage(page, 'browser-demo');
    await screenshot(page, 'template-instance-page');
    await page.getByRole('button', { name: 'Next' }).click();

    // Database: the defaults are valid.
    await page.getByRole('textbox', { name: /^AWS region/ }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();

    // Artifacts: the bucket name defaults from the instance name when empty.
    await page.getByRole('textbox', { name: /^Bucket name/ }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();

    // Kubernetes: the image and the hostname have no default.
    await page
      .getByRole('textbox', { name: 'Image', exact: true })
      .fill('ghcr.io/acme/mlflow-server:3.1.0');
    await page
      .getByRole('textbox', { name: 'Hostname', exact: true })
      .fill('browser-demo.mlflow.localhost');
    await screenshot(page, 'template-kubernetes-page');
    await page.getByRole('button', { name: 'Next' }).click();

    // Access: sign-in required by default, anonymous access off.
    const anonymous = page.getByRole('checkbox', {
      name: /Allow anonymous access/,
    });
    await anonymous.waitFor();
    expect(await anonymous.isChecked()).toBe(false);
    await page.getByRole('button', { name: 'Next' }).click();

    // Repository: off by default.
    await page
      .getByRole('checkbox', { name: /Publish to a Git repository/ })
      .waitFor();
    await page.getByRole('button', { name: 'Review' }).click();

    await page.getByRole('button', { name: 'Create' }).waitFor();
    await page.getByText('browser-demo.mlflow.localhost').first().waitFor();
    // dev keeps the small defaults
    await page.getByText('db.t4g.small', { exact: true }).waitFor();
    await page.getByText('browser-demo', { exact: true }).first().waitFor();
    await screenshot(page, 'template-review');
    await page.close();
  });
});
