import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { REPO_ROOT } from './startBackend';

/** Debian's Chromium, found on PATH (or CHROMIUM_PATH); no test tool downloads a browser of its own. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) {
    return process.env.CHROMIUM_PATH;
  }
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Chromium is not installed: apt-get install chromium (scripts/test does this for you)',
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs,
    );
  }
  return newest;
}

/**
 * Builds packages/app when its bundle is missing or older than the frontend sources, so the backend's
 * app plugin serves the current app, as in production.
 */
export function ensureAppBuilt(): void {
  const index = join(REPO_ROOT, 'packages/app/dist/index.html');
  const sources = [
    'packages/app/src',
    'plugins/mlflow/src',
    'plugins/mlflow-common/src',
  ]
    .map(dir => join(REPO_ROOT, dir))
    .filter(existsSync);
  const sourcesChanged = sources.some(
    dir => newestMtime(dir) > (existsSync(index) ? statSync(index).mtimeMs : 0),
  );
  if (sourcesChanged) {
    execFileSync('yarn', ['backstage-cli', 'package', 'build'], {
      cwd: join(REPO_ROOT, 'packages/app'),
      // jest's NODE_ENV=test has no browserslist entry; the bundle is a production one
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: 'inherit',
    });
  }
}

/** Signs in with the guest provider on the app's sign-in page. */
export async function signInAsGuest(
  page: Page,
  baseUrl: string,
): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('button', { name: 'Enter' }).click();
}

/** Saves a screenshot when E2E_SCREENSHOT_DIR is set (docs/ screenshots are made this way). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.E2E_SCREENSHOT_DIR;
  if (!dir) {
    return;
  }
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}
