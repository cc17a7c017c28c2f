// What a first visit costs on the wire: everything the app needs to run and to work offline
// (engine, both networks' weights, the app shell), with an empty cache, as Chromium received
// it from the server (compressed bodies plus headers). The gallery's paintings are counted
// apart: they are optional pictures, not the app.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ready, root, start } from './harness.mjs';

/** The bound for a first visit (decimal megabytes). */
const LIMIT = 10e6;

const build = JSON.parse(readFileSync(join(root, 'www', 'pkg', 'build.json'), 'utf8'));

/**
 * A first visit with an empty cache on the CPU path (no WebGPU) or the WebGPU path (without
 * the warm-up, which downloads nothing), until the page says it works offline: every response
 * that came over the network (not from the service worker's cache), from the page, its engine
 * worker and the service worker, and the model's progress lines.
 */
async function firstVisit(webgpu) {
  const browser = await start({ webgpu });
  try {
    const page = await browser.context.newPage();
    // Every status line, to read the model download's progress from.
    await page.addInitScript(() => {
      window.__statusLines = [];
      addEventListener('DOMContentLoaded', () => {
        const status = document.getElementById('engine-status');
        new MutationObserver(() => window.__statusLines.push(status.textContent)).observe(status, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
    });
    await page.goto(browser.url + (webgpu ? '?warmUp=0' : ''));
    assert.equal(await ready(page), webgpu ? 'webgpu' : 'cpu');
    // The service worker has the shell and the running engine's module once this is set.
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 180_000 });
    const received = [];
    for (const request of browser.requests) {
      const response = await request.response();
      if (!response || response.fromServiceWorker()) continue;
      const sizes = await request.sizes();
      received.push({
        path: new URL(request.url()).pathname,
        bytes: sizes.responseBodySize + sizes.responseHeadersSize,
        encoding: (await response.allHeaders())['content-encoding'] ?? null,
      });
    }
    const lines = await page.evaluate(() => window.__statusLines);
    assert.deepEqual(browser.errors, []);
    await page.close();
    return { received, lines };
  } finally {
    await browser.close();
  }
}

for (const [path, webgpu] of [['CPU', false], ['WebGPU', true]]) {
  test(`a first visit on the ${path} path transfers at most 10 MB, its engine module and the weights Brotli-compressed, and no other engine module`, async () => {
    const { received, lines } = await firstVisit(webgpu);
    const app = received.filter((r) => !r.path.startsWith('/gallery/'));
    const total = app.reduce((sum, r) => sum + r.bytes, 0);
    const paintings = received.filter((r) => r.path.startsWith('/gallery/')).reduce((sum, r) => sum + r.bytes, 0);
    const largest = [...app].sort((a, b) => b.bytes - a.bytes).slice(0, 4);
    console.log(
      `First visit, ${path} path: ${(total / 1e6).toFixed(2)} MB in ${app.length} responses (gallery paintings apart: ${(paintings / 1e6).toFixed(2)} MB); ` +
        largest.map((r) => `${r.path.split('/').pop()} ${(r.bytes / 1e6).toFixed(2)} MB ${r.encoding ?? 'identity'}`).join(', '),
    );

    // The engine and each network came once, compressed: the measurement saw all of them.
    const [used, unused] = webgpu ? [build.engines.webgpu, build.engines.cpu] : [build.engines.cpu, build.engines.webgpu];
    for (const file of [used.wasm, ...Object.values(build.weights).map((w) => w.url)]) {
      const responses = app.filter((r) => r.path === `/pkg/${file}`);
      assert.equal(responses.length, 1, `${file} is fetched once: ${JSON.stringify(responses)}`);
      assert.equal(responses[0].encoding, 'br', file);
    }
    for (const file of [unused.glue, unused.wasm]) {
      assert.ok(!received.some((r) => r.path === `/pkg/${file}`), `${file} is not downloaded on the ${path} path`);
    }
    assert.ok(total <= LIMIT, `a first visit transfers ${total} bytes, over ${LIMIT}`);

    // The model's progress bar counted the bytes on the wire (both files, compressed), up to
    // all of them.
    const weightBodies = Object.values(build.weights)
      .map((w) => received.find((r) => r.path === `/pkg/${w.url}`))
      .reduce((sum, r) => sum + r.bytes, 0);
    const model = lines.map((line) => line.match(/^Downloading the model: ([\d.]+) of ([\d.]+) MB/)).filter(Boolean);
    assert.ok(model.length > 1, lines.join('\n'));
    const [, loaded, shown] = model.at(-1);
    assert.equal(loaded, shown, 'the bar reaches its end');
    assert.ok(Math.abs(Number(shown) - weightBodies / 1e6) <= 0.1, `${shown} MB shown, ${weightBodies} bytes received`);
  });
}
