// The deployable site (dist/site, written by www/build.mjs): copied as it is to the plainest
// static host (files by path, no compression, no special headers), the page starts, runs on
// the CPU fallback and stylizes; the build's scripts, tools and types are not in it.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { choose, ready, root, run, start, tiny } from './harness.mjs';

const site = join(root, 'dist', 'site');

/** Every file under `dir`, relative, with '/'. */
function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

describe('the deployable site', () => {
  let browser;
  before(async () => (browser = await start({ webgpu: false, dir: site, plain: true })));
  after(() => browser.close());

  test('holds what a static host serves and none of the build', () => {
    const all = files(site);
    const build = all.filter((f) => /\.(mjs|ts)$/.test(f) || f.startsWith('tools/') || f.includes('node_modules'));
    assert.deepEqual(build, []);
    for (const needed of ['index.html', 'app.js', 'stylizer.js', 'worker.js', 'sw.js', 'widget.js', 'embed.html', 'manifest.webmanifest', 'pkg/build.json', 'pkg/shell.js']) {
      assert.ok(all.includes(needed), `${needed} is missing`);
    }
    // The engine, the weights and their compressed copies.
    for (const kind of ['wasm', 'safetensors']) {
      assert.ok(all.some((f) => f.startsWith('pkg/') && f.endsWith(`.${kind}`)), kind);
      assert.ok(all.some((f) => f.endsWith(`.${kind}.br`)) && all.some((f) => f.endsWith(`.${kind}.gz`)), `${kind} copies`);
    }
  });

  test('copied to a plain static host, the page starts on the CPU and stylizes', async () => {
    const page = await browser.page();
    assert.equal(await ready(page), 'cpu');
    // No COOP/COEP headers from this host: one thread, and the page says so.
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    assert.match(await page.textContent('#engine-status'), /running on the CPU on one thread/);
    await choose(page);
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps on the CPU/);
    assert.deepEqual(await page.evaluate(() => [output.width, output.height]), [32, 21]);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});
