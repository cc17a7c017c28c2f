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

describe('damaged weights', () => {
  let browser;
  let site;
  before(async () => {
    site = copyOfSite();
    const file = join(site, weightsPath());
    writeFileSync(file, readFileSync(file).subarray(0, 4_000_000));
    browser = await start({ webgpu: false, dir: site });
  });
  after(async () => {
    await browser.close();
    rmSync(site, { recursive: true, force: true });
  });

  test('a truncated weight file is refused with a clear message', async () => {
    const page = await browser.page();
    await page.waitForSelector('#message:not([hidden])', { timeout: 60_000 });
    assert.match(await page.textContent('#message'), /model weights .* damaged or incomplete \(4000000 bytes/);
    assert.equal(await page.textContent('#engine-status'), 'The engine could not start.');
    assert.equal(await page.evaluate(() => caches.open('style-transfer-weights-v1').then((c) => c.keys()).then((k) => k.length)), 0);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

describe('installed app', () => {
  let browser;
  let site;
  before(async () => {
    site = copyOfSite();
    browser = await start({ webgpu: false, dir: site });
  });
  after(async () => {
    await browser.close();
    rmSync(site, { recursive: true, force: true });
  });

  test('after one visit it works with the network off', async () => {
    const page = await browser.page();
    assert.equal(await ready(page), 'cpu');
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 120_000 });
    assert.match(await page.textContent('#offline-status'), /Ready to work offline/);
    await browser.context.setOffline(true);
    try {
      await page.reload();
      assert.equal(await ready(page), 'cpu');
      await choose(page);
      await tiny(page, 32, 2);
      assert.match(await run(page), /^Done: 2 steps/);
    } finally {
      await browser.context.setOffline(false);
    }
    await page.close();
  });

  test('a rebuilt app shell replaces the old one after the prompt, without fetching the weights again', async () => {
    const page = await browser.page();
    await ready(page);
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 120_000 });
    assert.equal(await page.textContent('h1'), 'Style transfer');
    // Rebuild: a changed page and a new shell version.
    const index = join(site, 'index.html');
    writeFileSync(index, readFileSync(index, 'utf8').replace('<h1>Style transfer</h1>', '<h1>Style transfer, rebuilt</h1>'));
    const version = writeShellManifest(site);
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
    assert.equal(browser.served.filter((path) => path === weightsPath()).length, 1, browser.served.join('\n'));
    await page.close();
  });
});
