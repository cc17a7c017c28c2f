// The CPU engine's thread pool (the CPU module built with atomics; rayon's pool on Web Workers
// over shared memory): it starts where the page is cross-origin isolated, computes what one
// thread computes, ends with the stylizer, and falls back to one thread elsewhere.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { allClosed, apiPage as blankApiPage, blank, copyOfSite, siteUnderTest, start } from './harness.mjs';

/** The API's blank page with a 96 × 72 photo; `workers` every worker Playwright sees, the pool's too. */
async function apiPage(browser, url = browser.url) {
  const { page, seen } = await blankApiPage(browser, { url, photo: [96, 72], painting: [40, 40] });
  return { page, workers: seen };
}

/**
 * The blank page, and a worker for this test site only that cannot start workers of its own
 * (as under a Content-Security-Policy without `worker-src blob:`): the shipped worker,
 * imported after a module that makes `new Worker` throw.
 */
function blankWithoutNestedWorkers(site) {
  blank(site);
  writeFileSync(join(site, 'no-workers.js'), "self.Worker = class { constructor() { throw new DOMException('no workers here (test)', 'SecurityError'); } };\n");
  writeFileSync(join(site, 'no-pool-worker.js'), "import './no-workers.js';\nimport './worker.js';\n");
}

describe('the CPU engine on a cross-origin-isolated page', () => {
  const under = siteUnderTest(blankWithoutNestedWorkers);

  test('two threads start two pool workers beside the engine, say so when ready, and end with dispose()', async () => {
    const { page, workers } = await apiPage(under.browser);
    const ready = await page.evaluate(async () => {
      const statuses = [];
      window.stylizer = await api.createStylizer({ backend: 'cpu', threads: 2, onStatus: (s) => statuses.push(s) });
      return { isolated: crossOriginIsolated, status: statuses.at(-1), threads: stylizer.threads };
    });
    assert.equal(ready.isolated, true);
    assert.deepEqual([ready.status.stage, ready.status.threads, ready.status.singleThreaded, ready.threads], ['ready', 2, undefined, 2]);
    assert.equal(workers.length, 3, JSON.stringify(workers));
    // A run on the pool, disposed of while it computes: every worker ends.
    const run = await page.evaluate(async () => {
      const running = settle(stylizer.stylize({ content: photo, styles: [{ image: painting }], options: { size: 48, iterations: 50, init: 'content' }, onProgress: () => stylizer.dispose() }));
      return running;
    });
    assert.equal(run.name, 'AbortError', JSON.stringify(run));
    assert.deepEqual(await allClosed(workers), []);
    await page.close();
  });

  test('a panic on a pool thread rejects the run with EngineError saying why, ends the pool, and the next run works', async () => {
    const { page, workers } = await apiPage(under.browser);
    await page.evaluate(async () => {
      window.stylizer = await api.createStylizer({ backend: 'cpu', threads: 2 });
    });
    // Mid-run, as the engine reports its first step, its thread asks the pool for work that
    // panics there; it then waits for that work for ever, and only the page can end it.
    const build = await page.evaluate(async () => (await fetch('/pkg/build.json')).json());
    const engine = page.workers().find((w) => w.url().endsWith('/worker.js'));
    await engine.evaluate(async (glue) => {
      const module = await import(glue);
      const post = self.postMessage.bind(self);
      self.postMessage = (message, transfer) => {
        if (message?.type === 'progress' && message.progress.iteration) module.panicOnPool();
        return post(message, transfer);
      };
    }, new URL(`pkg/${build.engines.cpu.glue}`, under.browser.url).href);
    await page.evaluate(() => (window.failed = settle(stylizer.stylize({ content: photo, styles: [{ image: painting }], options: { size: 64, iterations: 400 } }))));
    const failed = await page.evaluate(() => failed);
    assert.deepEqual([failed.ok, failed.name], [false, 'EngineError']);
    assert.match(failed.message, /a panic on the thread pool, asked for by a test/);
    assert.deepEqual(await allClosed(workers), []);
    const next = await page.evaluate(() => settle(stylizer.stylize({ content: photo, styles: [{ image: painting }], options: { size: 32, iterations: 2 } })));
    assert.equal(next.ok, true, next.message);
    await page.evaluate(() => stylizer.dispose());
    assert.deepEqual(await allClosed(workers), []);
    await page.close();
  });

  test('a pool whose workers cannot start leaves the engine on one thread, saying why', async () => {
    const { page, workers } = await apiPage(under.browser);
    const result = await page.evaluate(async () => {
      const statuses = [];
      const stylizer = await api.createStylizer({ backend: 'cpu', threads: 2, workerUrl: '/no-pool-worker.js', onStatus: (s) => statuses.push(s) });
      const run = await stylizer.stylize({ content: photo, styles: [{ image: painting }], options: { size: 32, iterations: 2 } });
      stylizer.dispose();
      return { threads: stylizer.threads, status: statuses.at(-1), iterations: run.iterations };
    });
    assert.deepEqual([result.threads, result.status.threads, result.iterations], [1, 1, 2]);
    assert.match(result.status.singleThreaded, /the thread pool did not start \(no workers here \(test\)\)/);
    assert.equal(workers.length, 1);
    await page.close();
  });

  test('one thread starts no pool', async () => {
    const { page, workers } = await apiPage(under.browser);
    const threads = await page.evaluate(async () => {
      const stylizer = await api.createStylizer({ backend: 'cpu', threads: 1 });
      const ran = await stylizer.stylize({ content: photo, styles: [{ image: painting }], options: { size: 32, iterations: 2 } });
      stylizer.dispose();
      return [stylizer.threads, ran.iterations];
    });
    assert.deepEqual(threads, [1, 2]);
    assert.equal(workers.length, 1);
    assert.deepEqual(await allClosed(workers), []);
    await page.close();
  });

  test('two threads compute what one thread computes, to float tolerance', async () => {
    const { page } = await apiPage(under.browser);
    const runs = await page.evaluate(async () => {
      const out = {};
      for (const threads of [1, 2]) {
        const stylizer = await api.createStylizer({ backend: 'cpu', threads });
        const losses = [];
        const result = await stylizer.stylize({
          content: photo,
          styles: [{ image: painting }],
          // From the photo: every report is a step of the optimisation, nothing random.
          // 96 px: large enough that the matrix products split across the pool.
          options: { size: 96, iterations: 4, minScale: 96, init: 'content', previewEvery: 0 },
          onProgress: (p) => losses.push(p.losses.total),
        });
        stylizer.dispose();
        out[threads] = { losses, data: Array.from(result.image.data) };
      }
      return out;
    });
    const [one, two] = [runs[1], runs[2]];
    console.log(`losses: one thread ${one.losses.join(', ')}; two threads ${two.losses.join(', ')}`);
    assert.equal(one.losses.length, 4);
    // Summation order differs between the pool's splits (the matrix products' blocks), so
    // the losses agree to float32 rounding carried through a few L-BFGS steps, not exactly.
    for (const [i, loss] of one.losses.entries()) {
      assert.ok(Math.abs(two.losses[i] - loss) <= 1e-3 * Math.abs(loss), `step ${i + 1}: ${two.losses[i]} vs ${loss}`);
    }
    // And the pictures to a level or so: the sRGB bytes of pixels a few ulps apart may round apart.
    const diffs = one.data.map((v, i) => Math.abs(v - two.data[i]));
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    console.log(`pictures: mean difference ${mean.toFixed(3)} levels, largest ${Math.max(...diffs)}`);
    assert.ok(mean <= 0.5 && Math.max(...diffs) <= 4, `mean ${mean}, largest ${Math.max(...diffs)}`);
    await page.close();
  });

  test('a thread count that is not a whole number from 1 to 64 is an OptionsError before any download', async () => {
    const { page, workers } = await apiPage(under.browser);
    const results = await page.evaluate(() =>
      Promise.all([0, 65, 1.5, 'all'].map((threads) => settle(api.createStylizer({ backend: 'cpu', threads })))),
    );
    for (const result of results) assert.deepEqual([result.ok, result.name], [false, 'OptionsError'], JSON.stringify(result));
    assert.match(results[3].message, /threads must be a whole number from 1 to 64/);
    assert.equal(workers.length, 0);
    await page.close();
  });
});

describe('the CPU engine on a page that is not cross-origin isolated', () => {
  test('it runs on one thread and says why', async () => {
    // The site on a static host that sends no COOP/COEP headers.
    const site = copyOfSite();
    blank(site);
    const browser = await start({ webgpu: false, plain: true, dir: site });
    try {
      const { page, workers } = await apiPage(browser);
      const result = await page.evaluate(async () => {
        const statuses = [];
        const stylizer = await api.createStylizer({ backend: 'cpu', threads: 2, onStatus: (s) => statuses.push(s) });
        const run = await stylizer.stylize({ content: photo, styles: [{ image: painting }], options: { size: 32, iterations: 2 } });
        stylizer.dispose();
        return { isolated: crossOriginIsolated, threads: stylizer.threads, status: statuses.at(-1), iterations: run.iterations };
      });
      assert.deepEqual([result.isolated, result.threads, result.status.threads, result.iterations], [false, 1, 1, 2]);
      assert.match(result.status.singleThreaded, /not cross-origin isolated/);
      assert.equal(workers.length, 1);
      assert.deepEqual(browser.errors, []);
      await page.close();
    } finally {
      await browser.close();
      rmSync(site, { recursive: true, force: true });
    }
  });
});
