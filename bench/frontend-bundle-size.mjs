#!/usr/bin/env node
/*
 * How much the MLflow frontend plugin weighs, run as a script, not a test:
 *
 *   source scripts/env.sh && node bench/frontend-bundle-size.mjs [--app]
 *
 * 1. Builds @stateful-mlflow/plugin-mlflow the way it would be published (`backstage-cli package
 *    build --minify`) and sums its JavaScript, raw and gzipped; also @stateful-mlflow/plugin-mlflow-common,
 *    the only workspace code it pulls into an app. Every other import (React, Material UI, Backstage
 *    packages) is shared with the app and costs nothing extra.
 * 2. With --app (slow: two production builds of packages/app), builds the app once without the
 *    plugin (`app.packages.exclude`) and once with it, and reports the difference of all emitted
 *    JavaScript and of the JavaScript loaded up front (what index.html references). The build with
 *    the plugin runs last so packages/app/dist ends up as the normal app.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const repoRoot = new URL('..', import.meta.url).pathname;
const pluginDir = join(repoRoot, 'plugins/mlflow');
const commonDir = join(repoRoot, 'plugins/mlflow-common');
const appDir = join(repoRoot, 'packages/app');

function run(cwd, args) {
  execFileSync('yarn', args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map(name => join(dir, String(name)))
    .filter(path => statSync(path).isFile());
}

/**
 * Raw bytes of the given files, gzip (level 9) of each file alone as a server sends it, and gzip of
 * all of them together, closer to what a bundler's chunk of the same code compresses to.
 */
function measure(files) {
  const contents = files.map(file => readFileSync(file));
  const raw = contents.reduce((sum, content) => sum + content.length, 0);
  const gzip = contents.reduce(
    (sum, content) => sum + gzipSync(content, { level: 9 }).length,
    0,
  );
  const gzipTogether = gzipSync(Buffer.concat(contents), { level: 9 }).length;
  return { files: files.length, raw, gzip, gzipTogether };
}

const kib = bytes => `${(bytes / 1024).toFixed(1)} KiB`;
const isJs = path => path.endsWith('.js');

function measurePackage(dir) {
  run(dir, ['backstage-cli', 'package', 'build', '--minify']);
  return measure(listFiles(join(dir, 'dist')).filter(isJs));
}

/** All JavaScript of an app build, and the part index.html loads before any lazy chunk. */
function measureApp() {
  const dist = join(appDir, 'dist');
  const all = listFiles(dist).filter(isJs);
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const initialNames = [...html.matchAll(/src="\/?([^"]+\.js)"/g)].map(
    m => m[1],
  );
  const initial = all.filter(file =>
    initialNames.includes(relative(dist, file)),
  );
  return { all: measure(all), initial: measure(initial) };
}

function buildApp(extraConfig) {
  const args = ['backstage-cli', 'package', 'build'];
  args.push('--config', join(repoRoot, 'app-config.yaml'));
  if (extraConfig) {
    args.push('--config', extraConfig);
  }
  run(appDir, args);
  return measureApp();
}

const results = {
  plugin: measurePackage(pluginDir),
  common: measurePackage(commonDir),
};

if (process.argv.includes('--app')) {
  const tmp = mkdtempSync(join(tmpdir(), 'mlflow-bundle-'));
  const withoutPlugin = join(tmp, 'app-config.without-mlflow.yaml');
  writeFileSync(
    withoutPlugin,
    'app:\n  packages:\n    exclude:\n      - "@stateful-mlflow/plugin-mlflow"\n',
  );
  try {
    const without = buildApp(withoutPlugin);
    const withPlugin = buildApp(undefined);
    results.app = {
      without,
      with: withPlugin,
      delta: {
        all: {
          raw: withPlugin.all.raw - without.all.raw,
          gzip: withPlugin.all.gzip - without.all.gzip,
          gzipTogether: withPlugin.all.gzipTogether - without.all.gzipTogether,
          files: withPlugin.all.files - without.all.files,
        },
        initial: {
          raw: withPlugin.initial.raw - without.initial.raw,
          gzip: withPlugin.initial.gzip - without.initial.gzip,
          gzipTogether:
            withPlugin.initial.gzipTogether - without.initial.gzipTogether,
          files: withPlugin.initial.files - without.initial.files,
        },
      },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

console.log(JSON.stringify(results, null, 2));
console.log('');
console.log('| What | JS files | Raw | Gzip, per file | Gzip, together |');
console.log('|---|---|---|---|---|');
const row = (what, m) =>
  console.log(
    `| ${what} | ${m.files} | ${kib(m.raw)} | ${kib(m.gzip)} | ${kib(
      m.gzipTogether,
    )} |`,
  );
row('plugin-mlflow dist (minified)', results.plugin);
row('plugin-mlflow-common dist (minified)', results.common);
if (results.app) {
  row('app without the plugin, all JS', results.app.without.all);
  row('app with the plugin, all JS', results.app.with.all);
  row('app delta, all JS', results.app.delta.all);
  row('app delta, JS loaded up front', results.app.delta.initial);
}
