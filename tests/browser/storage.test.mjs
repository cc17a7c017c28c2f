// Storage that fails: a browser that will not keep anything, entries evicted between visits,
// a damaged cached weight file, and a host that fails during the install. The page runs from
// the network each time, says once when it will not work offline, and no cache ever holds
// an error or a damaged file.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { choose, failRequests, ready, root, run, siteUnderTest, tiny } from './harness.mjs';

const build = () => JSON.parse(readFileSync(join(root, 'www', 'pkg', 'build.json'), 'utf8'));
/** The weight files' paths on the site. */
const weightPaths = () => Object.values(build().weights).map((w) => `/pkg/${w.url}`);

/** Every cached response, as `cache path status type` (the service worker's and the weights'). */
function cachedResponses(page) {
  return page.evaluate(async () => {
    const all = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        all.push(`${name} ${new URL(request.url).pathname} ${response.status} ${response.type}`);
      }
    }
    return all;
  });
}

/** Asserts that no cache holds an error or an opaque response (and that something is cached). */
async function onlyWholeResponses(page) {
  const all = await cachedResponses(page);
  assert.ok(all.length > 0);
  assert.deepEqual(all.filter((line) => !/ 200 (basic|default)$/.test(line)), []);
}

/** How many times the server was asked for `path`. */
const requestsFor = (browser, path) => browser.served.filter((p) => p === path).length;

/** Waits until the page says whether it works offline; returns 'ready' or 'unavailable'. */
async function offlineState(page) {
  await page.waitForSelector('body[data-offline]', { timeout: 120_000 });
  return page.evaluate(() => document.body.dataset.offline);
}

async function stylizes(page) {
  await choose(page);
  await tiny(page, 32, 2);
  assert.match(await run(page), /^Done: 2 steps/);
}

describe('a browser that keeps nothing (storage full or refused)', () => {
  const under = siteUnderTest();

  test('the page runs from the network on every visit and says once that it will not work offline', async () => {
    // Every write to the Cache API from the page fails as a full storage does.
    await under.browser.context.addInitScript(() => {
      const full = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
      // (Not on a page without the Cache API: about:blank.)
      if (globalThis.Cache) Object.assign(Cache.prototype, { put: full, add: full, addAll: full });
    });
    const page = await under.browser.page();
    for (const visit of [1, 2]) {
      if (visit === 2) await page.reload();
      assert.equal(await ready(page), 'cpu');
      assert.equal(await offlineState(page), 'unavailable');
      assert.equal(
        await page.textContent('#offline-status'),
        'Offline use is not available: the browser did not keep the model or the engine (storage full or refused); the next visit downloads them again.',
      );
      await stylizes(page);
      for (const path of weightPaths()) assert.equal(requestsFor(under.browser, path), visit, path);
    }
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });
});

describe('cached files lost or damaged between visits', () => {
  const under = siteUnderTest();

  test('evicted: the next visit downloads them again, keeps them, and works offline again', async () => {
    const page = await under.browser.page();
    assert.equal(await ready(page), 'cpu');
    assert.equal(await offlineState(page), 'ready');
    const { cpu } = build().engines;
    const evicted = [weightPaths()[0], `/pkg/${cpu.wasm}`];
    const before = evicted.map((path) => requestsFor(under.browser, path));
    // What a browser short of space does: entries go, the caches stay.
    await page.evaluate(async (paths) => {
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const path of paths) await cache.delete(path);
      }
    }, evicted);
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    assert.equal(await offlineState(page), 'ready');
    assert.deepEqual(evicted.map((path) => requestsFor(under.browser, path)), before.map((n) => n + 1));
    const kept = await cachedResponses(page);
    for (const path of evicted) assert.ok(kept.some((line) => line.includes(` ${path} `)), `${path} kept again`);
    await stylizes(page);
    await onlyWholeResponses(page);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test('a damaged cached weight file is found by its checksum, deleted and downloaded again', async () => {
    const page = await under.browser.page();
    assert.equal(await ready(page), 'cpu');
    const [path] = weightPaths();
    const { sha256 } = Object.values(build().weights)[0];
    // One bit flipped in the middle of the cached copy.
    await page.evaluate(async (path) => {
      const cache = await caches.open('style-transfer-weights-v1');
      const bytes = new Uint8Array(await (await cache.match(path)).arrayBuffer());
      bytes[bytes.length >> 1] ^= 1;
      await cache.put(path, new Response(bytes));
    }, path);
    const before = requestsFor(under.browser, path);
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    assert.equal(requestsFor(under.browser, path), before + 1);
    const digest = await page.evaluate(async (path) => {
      const cache = await caches.open('style-transfer-weights-v1');
      const hash = await crypto.subtle.digest('SHA-256', await (await cache.match(path)).arrayBuffer());
      return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
    }, path);
    assert.equal(digest, sha256);
    await stylizes(page);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });
});

describe('a host that fails during the install', () => {
  const under = siteUnderTest();

  test('no error is cached; the page runs from the network, says so, and installs on the next visit', async () => {
    // A file only the service worker's install asks for answers 500 for the first visit.
    let failing = true;
    failRequests(under.browser.server, (path) => failing && path === '/icon-512.png');
    const page = await under.browser.page();
    assert.equal(await ready(page), 'cpu');
    assert.equal(await offlineState(page), 'unavailable');
    assert.match(await page.textContent('#offline-status'), /^Offline use is not available: the app could not be saved for offline use \(a download failed/);
    await onlyWholeResponses(page);
    assert.deepEqual((await cachedResponses(page)).filter((line) => line.startsWith('shell-')), []);
    await stylizes(page);
    failing = false;
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    assert.equal(await offlineState(page), 'ready');
    await onlyWholeResponses(page);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });
});
