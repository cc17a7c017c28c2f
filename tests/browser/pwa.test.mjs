// Offline use and updates of the installed app (service worker, caches).

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { writeShellManifest } from '../../www/shell.mjs';
import { choose, ready, root, run, start, tiny } from './harness.mjs';

/** A copy of the built site that a test may rebuild. */
function copyOfSite() {
  const dir = mkdtempSync(join(tmpdir(), 'style-transfer-site-'));
  cpSync(join(root, 'www'), dir, { recursive: true });
  return dir;
}

const weightsPath = () => {
  const build = JSON.parse(readFileSync(join(root, 'www', 'pkg', 'build.json'), 'utf8'));
  return `/pkg/${build.weights.url}`;
};

/**
 * Inside a describe block: Chromium without WebGPU on a fresh copy of the built site, first
 * changed by `prepare(dir)`. Its `browser` and `site` are set once the block starts.
 */
function siteUnderTest(prepare = () => {}) {
  const current = {};
  before(async () => {
    current.site = copyOfSite();
    prepare(current.site);
    current.browser = await start({ webgpu: false, dir: current.site });
  });
  after(async () => {
    await current.browser.close();
    rmSync(current.site, { recursive: true, force: true });
  });
  return current;
}

describe('damaged weights', () => {
  const under = siteUnderTest((site) => {
    const file = join(site, weightsPath());
    writeFileSync(file, readFileSync(file).subarray(0, 4_000_000));
  });

  test('a truncated weight file is refused with a clear message', async () => {
    const page = await under.browser.page();
    await page.waitForSelector('#message:not([hidden])', { timeout: 60_000 });
    assert.match(await page.textContent('#message'), /model weights .* damaged or incomplete \(4000000 bytes/);
    assert.equal(await page.textContent('#engine-status'), 'The engine could not start.');
    assert.equal(await page.evaluate(() => caches.open('style-transfer-weights-v1').then((c) => c.keys()).then((k) => k.length)), 0);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });
});

describe('installed app', () => {
  const under = siteUnderTest();

  test('after one visit it works with the network off', async () => {
    const page = await under.browser.page();
    assert.equal(await ready(page), 'cpu');
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 120_000 });
    assert.match(await page.textContent('#offline-status'), /Ready to work offline/);
    await under.browser.context.setOffline(true);
    try {
      await page.reload();
      assert.equal(await ready(page), 'cpu');
      await choose(page);
      await tiny(page, 32, 2);
      assert.match(await run(page), /^Done: 2 steps/);
    } finally {
      await under.browser.context.setOffline(false);
    }
    await page.close();
  });

  test('a rebuilt app shell replaces the old one after the prompt, without fetching the weights again', async () => {
    const page = await under.browser.page();
    await ready(page);
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 120_000 });
    assert.equal(await page.textContent('h1'), 'Style transfer');
    // Rebuild: a changed page and a new shell version.
    const index = join(under.site, 'index.html');
    writeFileSync(index, readFileSync(index, 'utf8').replace('<h1>Style transfer</h1>', '<h1>Style transfer, rebuilt</h1>'));
    const version = writeShellManifest(under.site);
    // The old shell is still served; the new worker waits and the page offers the update.
    await page.reload();
    assert.equal(await page.textContent('h1'), 'Style transfer');
    await page.waitForSelector('#update:not([hidden])', { timeout: 60_000 });
    await Promise.all([page.waitForEvent('load'), page.click('#update-reload')]);
    await page.waitForFunction(() => document.querySelector('h1').textContent === 'Style transfer, rebuilt');
    assert.equal(await ready(page), 'cpu');
    const caches = await page.evaluate(() => caches.keys());
    assert.deepEqual(caches.sort(), [`shell-${version}`, 'style-transfer-weights-v1'].sort());
    // The weights came over the network once in this whole suite: on the first visit.
    assert.equal(under.browser.served.filter((path) => path === weightsPath()).length, 1, under.browser.served.join('\n'));
    await page.close();
  });
});
