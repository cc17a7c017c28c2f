// Offline use and updates of the installed app (service worker, caches).

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { nameEngineFiles, writeShellManifest } from '../../www/shell.mjs';
import { choose, ready, root, run, siteUnderTest, tiny } from './harness.mjs';

/** The weight files' paths on the site: VGG16's and the feed-forward network's. */
const weightPaths = () => {
  const build = JSON.parse(readFileSync(join(root, 'www', 'pkg', 'build.json'), 'utf8'));
  return Object.values(build.weights).map((w) => `/pkg/${w.url}`);
};
const weightsPath = () => weightPaths()[0];

/**
 * A deploy of a new build to `site`: the same CPU engine with a different wasm (a custom
 * section appended), so its glue and wasm get new content-hashed names and the old files are
 * gone.
 */
function deployNewBuild(site) {
  const pkg = join(site, 'pkg');
  const build = JSON.parse(readFileSync(join(pkg, 'build.json'), 'utf8'));
  const wasm = join(pkg, build.engines.cpu.wasm);
  const name = Buffer.from('deploy');
  const section = Buffer.concat([Buffer.from([0, 1 + name.length + 1, name.length]), name, Buffer.from('2')]);
  writeFileSync(wasm, Buffer.concat([readFileSync(wasm), section]));
  const next = nameEngineFiles(site);
  return { before: build.engines.cpu, after: next.engines.cpu, version: writeShellManifest(site) };
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
    // The damaged file was not kept (the other network's verified file may be).
    const kept = await page.evaluate(() => caches.open('style-transfer-weights-v1').then((c) => c.keys()).then((k) => k.map((r) => new URL(r.url).pathname)));
    assert.ok(!kept.includes(weightsPath()), kept.join('\n'));
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
      // The cached responses keep the headers that isolate the page, so the CPU engine runs
      // on its thread pool offline too.
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      assert.match(await page.textContent('#engine-status'), cores > 1 ? /running on the CPU on \d+ threads/ : /one thread/);
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
    // Each weight file came over the network once in this whole suite: on the first visit.
    for (const file of weightPaths()) {
      assert.equal(under.browser.served.filter((path) => path === file).length, 1, under.browser.served.join('\n'));
    }
    await page.close();
  });
});

describe('a deploy between the install and the first engine start', () => {
  const under = siteUnderTest((site) => writeFileSync(join(site, 'blank.html'), '<!doctype html><title>blank</title><link rel="icon" href="data:,">'));

  test('the engine starts from the glue and wasm of the installed build, then the update is offered', async () => {
    const { browser, site } = under;
    // Install the app from a page of the site that does not start the engine.
    const blank = await browser.page('blank.html');
    await blank.evaluate(async () => {
      await navigator.serviceWorker.register('sw.js');
      await navigator.serviceWorker.ready;
    });
    const installed = await blank.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith('shell-'));
      return (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    });
    await blank.close();
    const deploy = deployNewBuild(site);
    assert.ok(installed.includes(`/pkg/${deploy.before.glue}`) && installed.includes(`/pkg/${deploy.before.wasm}`), installed.join(' '));
    assert.notEqual(deploy.before.wasm, deploy.after.wasm);

    const served = browser.served.length;
    const page = await browser.page();
    assert.equal(await ready(page), 'cpu');
    await choose(page);
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    await page.waitForSelector('#update:not([hidden])', { timeout: 60_000 });
    await Promise.all([page.waitForEvent('load'), page.click('#update-reload')]);
    assert.equal(await ready(page), 'cpu');
    // The old build's engine came from the cache as one pair; the new one once, for the update.
    const fetched = browser.served.slice(served).filter((path) => path.startsWith('/pkg/engine_'));
    assert.deepEqual(fetched.sort(), [`/pkg/${deploy.after.glue}`, `/pkg/${deploy.after.wasm}`].sort());
    const caches = await page.evaluate(async () => {
      const names = await caches.keys();
      const shell = names.find((n) => n.startsWith('shell-'));
      const files = (await (await caches.open(shell)).keys()).map((r) => new URL(r.url).pathname);
      return { names, engine: files.filter((f) => f.startsWith('/pkg/engine_')) };
    });
    assert.deepEqual(caches.names.sort(), [`shell-${deploy.version}`, 'style-transfer-weights-v1'].sort());
    assert.deepEqual(caches.engine.sort(), [`/pkg/${deploy.after.glue}`, `/pkg/${deploy.after.wasm}`].sort());
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

/** The paths in the app's shell cache (the service worker's) that start with `prefix`. */
async function shellCached(page, prefix) {
  return page.evaluate(async (prefix) => {
    const shell = (await caches.keys()).find((n) => n.startsWith('shell-'));
    return (await (await caches.open(shell)).keys()).map((r) => new URL(r.url).pathname).filter((p) => p.startsWith(prefix));
  }, prefix);
}

describe('the engine module the service worker did not install', () => {
  // A browser with WebGPU, whose service worker installs the WebGPU module, and a page that
  // asks for the CPU engine: the CPU module comes from the network the first time.
  const under = siteUnderTest(() => {}, { webgpu: true });

  test('is kept as it first comes, once its SHA-256 is checked, and the page then works offline', async () => {
    const build = JSON.parse(readFileSync(join(under.site, 'pkg', 'build.json'), 'utf8'));
    const page = await under.browser.page('?backend=cpu');
    assert.equal(await ready(page), 'cpu');
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 60_000 });
    const { webgpu, cpu } = build.engines;
    const kept = await shellCached(page, '/pkg/');
    for (const file of [webgpu.glue, webgpu.wasm, cpu.glue, cpu.wasm, ...cpu.snippets]) assert.ok(kept.includes(`/pkg/${file}`), `${file} in ${kept}`);
    await page.close();
  });
});

describe('an engine module changed on the server after the build', () => {
  const under = siteUnderTest((site) => {
    // The CPU module's wasm, not the one the shell's list names: its SHA-256 differs.
    const build = JSON.parse(readFileSync(join(site, 'pkg', 'build.json'), 'utf8'));
    const wasm = join(site, 'pkg', build.engines.cpu.wasm);
    const name = Buffer.from('changed');
    writeFileSync(wasm, Buffer.concat([readFileSync(wasm), Buffer.from([0, 1 + name.length + 1, name.length]), name, Buffer.from('!')]));
    for (const copy of ['.br', '.gz']) rmSync(wasm + copy, { force: true });
  }, { webgpu: true });

  test('is used but never kept, and the page does not claim to work offline', async () => {
    const build = JSON.parse(readFileSync(join(under.site, 'pkg', 'build.json'), 'utf8'));
    const page = await under.browser.page('?backend=cpu');
    assert.equal(await ready(page), 'cpu');
    // The check runs once the whole file has come, before the engine has started.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const kept = await shellCached(page, '/pkg/engine_cpu');
    assert.deepEqual(kept, [`/pkg/${build.engines.cpu.glue}`]);
    assert.notEqual(await page.evaluate(() => document.body.dataset.offline), 'ready');
    await page.close();
  });
});

describe('the development server', () => {
  const under = siteUnderTest(() => {}, { dev: true });

  test('an edit to a file of www/ shows on reload, with the service worker installed', async () => {
    const page = await under.browser.page();
    const messages = [];
    page.on('console', (m) => messages.push(m.text()));
    const backend = await ready(page).catch(async (error) => {
      // What the page and its service worker were doing, for a failure seen only in CI.
      const state = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration();
        const states = ['installing', 'waiting', 'active'].map((k) => `${k}: ${registration?.[k]?.state ?? '-'}`);
        return [document.getElementById('engine-status').textContent, document.getElementById('offline-status').textContent,
          `controller: ${!!navigator.serviceWorker.controller}`, ...states].join('; ');
      }).catch((e) => `(no state: ${e.message})`);
      throw new Error(`${error.message}\n${state}\nconsole: ${messages.join(' | ')}\nserved: ${under.browser.served.join(' ')}\nerrors: ${under.browser.errors.join(' | ')}`);
    });
    assert.equal(backend, 'cpu');
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 120_000 });
    // The edit is to the sources; the server serves the site folder, and copies it there.
    const index = join(under.sources, 'index.html');
    writeFileSync(index, readFileSync(index, 'utf8').replace('<h1>Style transfer</h1>', '<h1>Style transfer, edited</h1>'));
    await page.reload();
    assert.equal(await page.textContent('h1'), 'Style transfer, edited');
    assert.match(readFileSync(join(under.site, 'index.html'), 'utf8'), /Style transfer, edited/);
    assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller));
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });
});
