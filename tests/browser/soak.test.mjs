// Soak: one page, 30 stylizations in a row at 64–128 px, mixing runs that complete, runs
// cancelled mid-run, starts cancelled, and stylizers disposed and created again, on the CPU
// engine and on WebGPU (SwiftShader). Afterwards the workers and GPU devices are back to
// their baseline, and the memory of the renderer (the page, its workers and their wasm) and of
// the GPU process after the last run is within MARGIN_MB of theirs after the third (the
// figures are printed; README "Reliability").
//
// On SwiftShader a Gatys step takes seconds (6 s at 64 px, 20 s at 128 px, and a new
// engine's first compiles its pipelines for 20 s more), so WebGPU's runs are the fast start
// alone (the feed-forward network: the engine's whole path, from pictures in to picture out,
// without the optimisation), but for a one-step optimisation in the first run and in each
// cancelled one, at 64 px. A cancelled run ends its engine's workers (its step cannot be cut
// short); the next run starts a new engine, which on WebGPU compiles its pipelines again.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { allClosed, apiPage, blank, siteUnderTest } from './harness.mjs';

/**
 * How much the renderer and the GPU process may grow from the third run to the thirtieth, in
 * MB: their resident memory moves by tens of MB from run to run (V8's heaps, the GPU memory
 * pool of the live engine, which keeps what its runs' sizes needed), while a leak of a
 * worker's wasm memory, a picture per run or a GPU device is hundreds. The browser's own
 * process is printed but not held to it: it grows by itself with each new GPU device
 * (Chromium's shader cache) and with the test driver's bookkeeping of each worker.
 */
const MARGIN_MB = { renderers: 40, gpu: 80 };

/** The 30 runs, in order: each ten, seven kinds of ending. */
const SCHEDULE = Array.from({ length: 30 }, (_, i) =>
  ['complete', 'cancel-mid-run', 'complete', 'cancel-start', 'complete', 'recreate', 'complete', 'cancel-mid-run', 'complete', 'complete'][i % 10],
);

for (const backend of ['cpu', 'webgpu']) {
  describe(`30 stylizations on one page, ${backend === 'cpu' ? 'on the CPU engine' : 'on WebGPU (SwiftShader)'}`, () => {
    const under = siteUnderTest(blank, { webgpu: backend === 'webgpu' });

    test('leave no worker, GPU device or memory behind', { timeout: 600_000 }, async () => {
      const { page, seen } = await apiPage(under.browser, { photo: [128, 96], painting: [64, 64] });
      const cdp = await page.context().newCDPSession(page);
      /** The browser's memory once the page's garbage is collected and the engines are idle. */
      const memory = async () => {
        await cdp.send('HeapProfiler.collectGarbage');
        await page.waitForTimeout(1000);
        return under.browser.memory();
      };
      const baseline = { workers: seen.filter((w) => !w.closed).length, memory: await memory() };
      await page.evaluate(async (backend) => {
        window.make = () => api.createStylizer({ backend, warmUp: false });
        window.stylizer = await make();
      }, backend);
      const alive = () => seen.filter((w) => !w.closed).length;
      /** Waits up to 20 s for `count` workers alive; returns how many are. */
      const settled = async (count) => {
        for (let end = Date.now() + 20_000; alive() !== count && Date.now() < end; ) await page.waitForTimeout(100);
        return alive();
      };
      // One engine's workers: its own, and its thread pool's on the CPU.
      const threads = await page.evaluate(() => stylizer.threads);
      const perEngine = 1 + (threads > 1 ? threads : 0);
      assert.equal(await settled(perEngine), perEngine);
      const figures = [];
      const times = [];
      for (const [i, kind] of SCHEDULE.entries()) {
        const cancelled = kind === 'cancel-mid-run';
        const iterations = backend === 'cpu' ? 3 : i === 0 || cancelled ? 1 : 0;
        const size = backend === 'webgpu' && iterations > 0 ? 64 : [64, 96, 128][i % 3];
        const started = Date.now();
        const outcome = await page.evaluate(
          async ({ kind, size, iterations }) => {
            if (kind === 'cancel-mid-run') {
              const controller = new AbortController();
              const onProgress = () => controller.abort();
              const options = { size, iterations };
              return (await settle(stylizer.stylize(request({ options, onProgress, signal: controller.signal })))).name;
            }
            if (kind === 'cancel-start') {
              // A second stylizer whose start is cancelled while its engine loads.
              const controller = new AbortController();
              const starting = settle(api.createStylizer({ backend: stylizer.backend, warmUp: false, signal: controller.signal }));
              setTimeout(() => controller.abort(), 50);
              const started = await starting;
              return started.ok ? (started.value.dispose(), 'started') : started.name;
            }
            if (kind === 'recreate') {
              stylizer.dispose();
              window.stylizer = await make();
            }
            const result = await settle(stylizer.stylize(request({ options: { size, iterations } })));
            return result.ok ? `${result.value.image.width}×${result.value.image.height}` : `${result.name}: ${result.message}`;
          },
          { kind, size, iterations },
        );
        times.push(Date.now() - started);
        // SOAK_TRACE=1: each run's time and the memory after it, by process.
        if (process.env.SOAK_TRACE) {
          const m = await memory();
          console.log(`# run ${i + 1} ${kind} ${size} px ${iterations} steps: ${times.at(-1)} ms; MB total ${m.total.toFixed(0)}, GPU ${m.gpu.toFixed(0)}, renderers ${m.renderers.toFixed(0)}`);
        }
        const expected = { 'cancel-mid-run': 'AbortError', 'cancel-start': 'AbortError' }[kind] ?? `${size}×${size * 3 / 4}`;
        assert.equal(outcome, expected, `run ${i + 1} (${kind}, ${size} px)`);
        // One engine's workers between runs, none after a cancel (until the next run).
        const expectedWorkers = kind === 'cancel-mid-run' ? 0 : perEngine;
        assert.equal(await settled(expectedWorkers), expectedWorkers, `workers after run ${i + 1} (${kind})`);
        if (i === 2 || i === SCHEDULE.length - 1) figures.push(await memory());
      }
      const devices = backend === 'webgpu' ? await page.workers().find((w) => w.url().endsWith('/worker.js')).evaluate(() => self.gpuDevices) : 0;
      await page.evaluate(() => stylizer.dispose());
      const left = await allClosed(seen);
      const [early, late] = figures;
      const grew = (part) => late[part] - early[part];
      const mb = (n) => `${n >= 0 ? '+' : ''}${n.toFixed(0)} MB`;
      console.log(
        `# soak (${backend}): ${seen.length} workers started, ${left.length} left; GPU devices of the last engine ${devices}; ` +
          `after run 3 → after run 30: renderers ${early.renderers.toFixed(0)} → ${late.renderers.toFixed(0)} MB (${mb(grew('renderers'))}), ` +
          `GPU process ${early.gpu.toFixed(0)} → ${late.gpu.toFixed(0)} MB (${mb(grew('gpu'))}), ` +
          `browser in all ${early.total.toFixed(0)} → ${late.total.toFixed(0)} MB (${mb(grew('total'))}; ${baseline.memory.total.toFixed(0)} MB before the first); ` +
          `runs ${(times.reduce((a, b) => a + b, 0) / 1000).toFixed(0)} s in all`,
      );
      assert.deepEqual(left, [], 'every worker ends with its stylizer');
      assert.equal(seen.filter((w) => !w.closed).length, baseline.workers);
      assert.equal(devices, backend === 'webgpu' ? 1 : 0);
      for (const part of ['renderers', 'gpu']) {
        assert.ok(grew(part) <= MARGIN_MB[part], `the ${part} grew ${mb(grew(part))} from run 3 to run 30 (margin ${MARGIN_MB[part]} MB)`);
      }
      assert.deepEqual(under.browser.errors, []);
      await page.close();
    });
  });
}
