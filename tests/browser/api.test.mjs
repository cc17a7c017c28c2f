// The JS API (www/stylizer.js) itself, imported into a blank page of the site: every
// sequence of starting, cancelling, disposing and crashing settles every promise with the
// documented error and leaves no worker behind.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { apiPage, blank, siteUnderTest } from './harness.mjs';


describe('stylizer.js on the CPU backend', () => {
  const under = siteUnderTest(blank);

  test('aborting before the start rejects at once and starts no worker', async () => {
    const { page, workers } = await apiPage(under.browser);
    const result = await page.evaluate(() => {
      const controller = new AbortController();
      controller.abort();
      return settle(api.createStylizer({ backend: 'cpu', signal: controller.signal }));
    });
    assert.deepEqual([result.ok, result.name], [false, 'AbortError']);
    assert.equal(await workers.started(), 0);
    await page.close();
  });

  test('the engine reports its download in bytes, then that it is ready', async () => {
    const { page } = await apiPage(under.browser);
    const statuses = await page.evaluate(async () => {
      const statuses = [];
      const stylizer = await api.createStylizer({ backend: 'cpu', onStatus: (s) => statuses.push(s) });
      stylizer.dispose();
      return statuses;
    });
    const stages = statuses.map((s) => s.stage).filter((s, i, all) => s !== all[i - 1]);
    // No warm-up on the CPU: there are no shader pipelines to compile.
    assert.deepEqual(stages, ['weights', 'starting', 'engine', 'ready']);
    assert.equal(statuses.at(-1).warmUp, null);
    const engine = statuses.filter((s) => s.stage === 'engine');
    const last = engine.at(-1);
    // The CPU module: 0.6 MB with Brotli.
    assert.ok(last.total > 1e5 && last.loaded === last.total, JSON.stringify(last));
    // On this cross-origin-isolated page, on every core up to 8 (the lifecycle tests below
    // run with the thread pool).
    const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency, 8));
    assert.deepEqual([statuses.at(-1).threads, statuses.at(-1).singleThreaded], [cores, undefined]);
    assert.ok(engine.every((s, i) => i === 0 || s.loaded >= engine[i - 1].loaded));
    await page.close();
  });

  test('aborting while the engine starts rejects and ends the worker', async () => {
    const { page, workers } = await apiPage(under.browser);
    const result = await page.evaluate(() => {
      const controller = new AbortController();
      const onStatus = (s) => s.stage === 'starting' && setTimeout(() => controller.abort(), 0);
      return settle(api.createStylizer({ backend: 'cpu', signal: controller.signal, onStatus }));
    });
    assert.deepEqual([result.ok, result.name], [false, 'AbortError']);
    assert.equal(await workers.started(), 1);
    assert.equal(await workers.settled(), 0);
    await page.close();
  });

  test('a status callback that throws rejects the start with its error and leaves no worker', async () => {
    const { page, workers } = await apiPage(under.browser);
    const results = await page.evaluate(async () => {
      const thrower = (stage) => (s) => {
        if (s.stage === stage) throw new TypeError(`a bug in the caller at ${stage}`);
      };
      const results = {};
      for (const stage of ['weights', 'engine', 'ready']) {
        results[stage] = await settle(api.createStylizer({ backend: 'cpu', onStatus: thrower(stage) }));
      }
      return results;
    });
    for (const [stage, result] of Object.entries(results)) {
      assert.deepEqual(result, { ok: false, name: 'TypeError', message: `a bug in the caller at ${stage}` });
    }
    // The two that got as far as a worker ended it.
    assert.equal(await workers.started(), 2);
    assert.equal(await workers.settled(), 0);
    await page.close();
  });

  test('a cancel mid-run, then a cancel while the next run restarts the engine, then a run', async () => {
    const { page, workers } = await apiPage(under.browser);
    const results = await page.evaluate(async () => {
      const statuses = [];
      window.stylizer = await api.createStylizer({ backend: 'cpu', onStatus: (s) => statuses.push(s.stage) });
      const midRun = new AbortController();
      const first = await settle(stylizer.stylize(request({
        options: { size: 32, iterations: 400 },
        signal: midRun.signal,
        onProgress: (p) => p.iteration === 2 && midRun.abort(),
      })));
      // The worker is gone; the next call starts one, and is cancelled while it starts.
      const duringStart = new AbortController();
      const before = statuses.length;
      const watch = setInterval(() => statuses.slice(before).includes('starting') && duringStart.abort(), 0);
      const second = await settle(stylizer.stylize(request({ signal: duringStart.signal })));
      clearInterval(watch);
      const third = await settle(stylizer.stylize(request()));
      return { first, second, third: [third.ok, third.value?.iterations], statuses };
    });
    assert.deepEqual([results.first.name, results.second.name], ['AbortError', 'AbortError']);
    assert.deepEqual(results.third, [true, 2]);
    // Three workers: the first, the one cancelled while starting, the one that ran.
    assert.equal(await workers.started(), 3);
    assert.equal(await workers.alive(), 1);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test('dispose() during a start and during a run rejects both, with no worker left', async () => {
    const { page, workers } = await apiPage(under.browser);
    const results = await page.evaluate(async () => {
      const a = await api.createStylizer({ backend: 'cpu' });
      const running = settle(a.stylize(request({
        options: { size: 32, iterations: 400 },
        onProgress: (p) => p.iteration === 2 && a.dispose(),
      })));
      const queued = settle(a.stylize(request()));
      const duringRun = [await running, await queued];
      const after = await settle(a.stylize(request()));
      // During a start: a cancelled run leaves no worker, so the next call starts one.
      const b = await api.createStylizer({
        backend: 'cpu',
        onStatus: (s) => s.stage === 'starting' && window.disposeB?.(),
      });
      const cancel = new AbortController();
      await settle(b.stylize(request({ options: { iterations: 400 }, signal: cancel.signal, onProgress: () => cancel.abort() })));
      window.disposeB = () => setTimeout(() => b.dispose(), 0);
      const duringStart = await settle(b.stylize(request()));
      return { duringRun, after, duringStart };
    });
    assert.deepEqual(results.duringRun.map((r) => r.name), ['AbortError', 'AbortError']);
    assert.match(results.duringRun[0].message, /disposed/);
    assert.deepEqual([results.after.name, results.duringStart.name], ['EngineError', 'AbortError']);
    assert.equal(await workers.settled(), 0);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test('two stylize() calls at once run one after the other, in call order', async () => {
    const { page, workers } = await apiPage(under.browser);
    const order = await page.evaluate(async () => {
      const stylizer = await api.createStylizer({ backend: 'cpu' });
      const events = [];
      const call = (name) => stylizer.stylize(request({
        options: { size: 32, iterations: 3 },
        onProgress: (p) => events.push(`${name}${p.iteration}`),
      })).then((r) => events.push(`${name} done ${r.iterations}`));
      await Promise.all([call('a'), call('b')]);
      return events;
    });
    // Each run reports its fast start's picture (0), then its steps.
    assert.deepEqual(order, ['a0', 'a1', 'a2', 'a3', 'a done 3', 'b0', 'b1', 'b2', 'b3', 'b done 3']);
    assert.equal(await workers.started(), 1);
    await page.close();
  });

  test('an option typo is an OptionsError and the worker lives on', async () => {
    const { page, workers } = await apiPage(under.browser);
    const results = await page.evaluate(async () => {
      const stylizer = await api.createStylizer({ backend: 'cpu' });
      const typo = await settle(stylizer.stylize(request({ options: { size: 32, styleWieght: 5 } })));
      const range = await settle(stylizer.stylize(request({ options: { size: 32, fastStrength: 2 } })));
      const type = await settle(stylizer.stylize(request({ options: { size: 32, optimizer: 'sgd' } })));
      const oldName = await settle(stylizer.stylize(request({ styles: [{ image: painting, weight: 1 }] })));
      const renamed = await settle(stylizer.stylize(request({ options: { size: 32, preserveColors: true } })));
      const good = await settle(stylizer.stylize(request({ options: { size: 32, iterations: 1, colors: 'luminance' } })));
      return { errors: [typo, range, type, oldName, renamed].map((r) => [r.name, r.message]), good: good.ok };
    });
    assert.deepEqual(results.errors.map(([name]) => name), ['OptionsError', 'OptionsError', 'OptionsError', 'ImageInputError', 'OptionsError']);
    assert.match(results.errors[4][1], /preserveColors.*was replaced by `colors`: "photo"/);
    assert.match(results.errors[0][1], /styleWieght/);
    assert.match(results.errors[1][1], /fastStrength/);
    assert.match(results.errors[2][1], /sgd/);
    assert.match(results.errors[3][1], /weight/);
    assert.equal(results.good, true);
    // One worker all along: nothing was torn down or compiled again.
    assert.deepEqual([await workers.started(), await workers.alive()], [1, 1]);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test('masks put the painting where its mask is and keep the photo; bad masks are OptionsErrors', async () => {
    const { page, workers } = await apiPage(under.browser);
    const result = await page.evaluate(async () => {
      const stylizer = await api.createStylizer({ backend: 'cpu' });
      // The painting on the left (one byte a pixel); the photo kept on the right (white paint
      // on a transparent canvas at twice the photo's size).
      const left = { width: 40, height: 30, data: new Uint8Array(40 * 30).map((_, i) => (i % 40 < 20 ? 255 : 0)) };
      const canvas = new OffscreenCanvas(80, 60);
      const context = canvas.getContext('2d');
      context.fillStyle = 'white';
      context.fillRect(40, 0, 40, 60);
      const masked = (extra) => request({ styles: [{ image: painting, mask: left }], keepMask: canvas, ...extra });
      const { image } = await stylizer.stylize(masked({ options: { size: 40, iterations: 0 } }));
      // Mean absolute difference from the photo (0–255) over columns [from, to).
      const difference = (from, to) => {
        let sum = 0;
        let n = 0;
        for (let y = 0; y < 30; y++) {
          for (let x = from; x < to; x++) {
            for (let c = 0; c < 3; c++, n++) sum += Math.abs(image.data[4 * (y * 40 + x) + c] - photo.data[4 * (y * 40 + x) + c]);
          }
        }
        return sum / n;
      };
      const refined = await settle(stylizer.stylize(masked({ options: { size: 32, iterations: 2 } })));
      const errors = [];
      for (const extra of [
        { styles: [{ image: painting, mask: [1, 0] }] },
        { styles: [{ image: painting, mask: { width: 10, height: 10, data: new Uint8Array(100).fill(255) } }] },
        { styles: [{ image: painting, mask: { width: 40, height: 30, data: new Uint8Array(1200) } }] },
        { keepMask: { width: 4, height: 3, data: new Uint8Array(12).fill(255) } },
        { keepMask: 'everywhere' },
        { styles: [{ image: painting, mask: new OffscreenCanvas(0, 0) }] },
      ]) {
        const r = await settle(stylizer.stylize(request(extra)));
        errors.push([r.name, r.message]);
      }
      // null is no mask, as left out.
      const after = await settle(stylizer.stylize(request({ styles: [{ image: painting, mask: null }], keepMask: null })));
      stylizer.dispose();
      return { size: [image.width, image.height], painted: difference(0, 17), kept: difference(23, 40), refined: refined.ok, errors, after: after.ok };
    });
    console.log(`masks: painted half ${result.painted.toFixed(1)}, kept half ${result.kept.toFixed(1)} levels from the photo`);
    assert.deepEqual(result.size, [40, 30]);
    assert.ok(result.painted > 10 && result.kept < 1, JSON.stringify(result));
    assert.equal(result.refined, true);
    assert.deepEqual(result.errors.map(([name]) => name), Array(6).fill('OptionsError'), JSON.stringify(result.errors));
    assert.match(result.errors[0][1], /mask of style 1/);
    assert.match(result.errors[1][1], /the photo's shape/);
    assert.match(result.errors[2][1], /anything to paint/);
    assert.match(result.errors[3][1], /anything to paint/);
    assert.match(result.errors[4][1], /keepMask/);
    assert.match(result.errors[5][1], /mask of style 1.*not empty/);
    assert.equal(result.after, true);
    assert.deepEqual([await workers.started(), await workers.alive()], [1, 0]);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test('palette() gives the photo the paintings\' colours at once, at the size asked', async () => {
    const { page } = await apiPage(under.browser);
    const result = await page.evaluate(async () => {
      const stylizer = await api.createStylizer({ backend: 'cpu' });
      const flat = (rgb) => {
        const data = new Uint8ClampedArray(32 * 32 * 4);
        for (let i = 0; i < data.length; i += 4) data.set([...rgb, 255], i);
        return new ImageData(data, 32, 32);
      };
      const mean = ({ data }) => [0, 1, 2].map((c) => data.filter((_, i) => i % 4 === c).reduce((a, b) => a + b, 0) / (data.length / 4));
      // A painting and a flat orange, blended 3 : 1: the blend's mean is theirs by share.
      const styles = [{ image: painting, blend: 3 }, { image: flat([230, 128, 26]) }];
      const { image } = await stylizer.palette({ content: photo, styles, size: 24 });
      const expected = mean(painting).map((m, c) => 0.75 * m + 0.25 * [230, 128, 26][c]);
      const noStyle = await settle(stylizer.palette({ content: photo, styles: [] }));
      stylizer.dispose();
      return { size: [image.width, image.height], got: mean(image), expected, photo: mean(photo), noStyle: noStyle.name };
    });
    assert.deepEqual(result.size, [24, 18]);
    // Within 3 levels of 255 (rounding and the clipping of a few pixels); the photo's own mean
    // is tens of levels away.
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(result.got[c] - result.expected[c]) < 3, JSON.stringify(result));
    assert.ok(result.expected.some((m, c) => Math.abs(m - result.photo[c]) > 15), JSON.stringify(result));
    assert.equal(result.noStyle, 'ImageInputError');
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test('a progress callback that throws rejects the run with its error, and the next run works', async () => {
    const { page, workers } = await apiPage(under.browser);
    const results = await page.evaluate(async () => {
      const stylizer = await api.createStylizer({ backend: 'cpu' });
      const reported = [];
      const thrown = await settle(stylizer.stylize(request({
        options: { size: 32, iterations: 4 },
        onProgress: (p) => {
          reported.push(p.iteration);
          if (p.iteration === 1) throw new TypeError('a bug in the caller');
        },
      })));
      const next = await settle(stylizer.stylize(request()));
      return { thrown, reported, next: next.ok };
    });
    // The caller's own error, not a cancel's AbortError nor a result; nothing reported after it.
    assert.deepEqual(results.thrown, { ok: false, name: 'TypeError', message: 'a bug in the caller' });
    assert.deepEqual(results.reported, [0, 1]);
    assert.equal(results.next, true);
    // The run ended with its worker, as a cancel does; the next call started another.
    assert.deepEqual([await workers.started(), await workers.alive()], [2, 1]);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test("what a call leaves out takes the engine's defaults for its device", async () => {
    const { page } = await apiPage(under.browser);
    const { defaults, limits, presets, looks, plan, quick, progress } = await page.evaluate(async () => {
      const stylizer = await api.createStylizer({ backend: 'cpu' });
      const { defaults, limits, presets, looks } = stylizer;
      const plan = await stylizer.plan({ width: 40, height: 30, options: {} });
      // No size: the 40 × 30 photo comes out at the default size (Quick, to be quick).
      const progress = [];
      const result = await stylizer.stylize({
        content: window.photo,
        styles: [{ image: window.painting }],
        options: { iterations: 0 },
        onProgress: (p) => progress.push(p),
      });
      stylizer.dispose();
      return { defaults, limits, presets, looks, plan, quick: [result.image.width, result.image.height], progress };
    });
    // The engine's one defaults object, with the CPU's memory budget (WebGPU's is below).
    assert.equal(defaults.memoryBudget, 1024);
    const balanced = presets.find((p) => p.name === 'balanced');
    assert.deepEqual([defaults.size, defaults.iterations], [balanced.size, balanced.iterations]);
    assert.deepEqual(presets.map((p) => p.name), ['quick', 'draft', 'balanced', 'best']);
    // The looks: the default (painterly) first, its content weight the defaults'.
    assert.deepEqual(looks.map((l) => l.name), ['painterly', 'faithful']);
    assert.equal(defaults.contentWeight, looks[0].contentWeight);
    assert.ok(looks[1].contentWeight > looks[0].contentWeight, JSON.stringify(looks));
    assert.ok(limits.minSize <= defaults.size && defaults.size <= limits.maxSize, JSON.stringify(limits));
    assert.deepEqual(plan.at(-1).width, defaults.size);
    assert.equal(plan.reduce((sum, s) => sum + s.iterations, 0), defaults.iterations);
    assert.deepEqual(quick, [defaults.size, Math.round((defaults.size * 30) / 40)]);
    // The engine's report, serialized by the engine: camelCase keys, no tile outside tiling,
    // and no image (the default previewEvery is 0).
    assert.deepEqual(Object.keys(progress[0]).sort(), ['height', 'iteration', 'losses', 'phases', 'scale', 'scales', 'total', 'width']);
    assert.equal(progress[0].losses, null);
    await page.close();
  });

  test('a worker that crashes while idle is replaced by the next call', async () => {
    const { page, workers } = await apiPage(under.browser);
    await page.evaluate(async () => (window.stylizer = await api.createStylizer({ backend: 'cpu' })));
    await workers.workers[0].evaluate(() => setTimeout(() => {
      throw new Error('simulated crash');
    }, 0));
    assert.equal(await workers.settled(), 0);
    const result = await page.evaluate(() => settle(stylizer.stylize(request())));
    assert.equal(result.ok, true, result.message);
    assert.deepEqual([await workers.started(), await workers.alive()], [2, 1]);
    await page.close();
  });
});

/**
 * The blank page, and a worker for this test site only in which WebGPU is there but gives no
 * device (as a blocklisted driver or a device lost at creation does): the shipped worker,
 * imported after a module that makes every adapter's requestDevice reject.
 */
function blankWithDevicelessWorker(site) {
  blank(site);
  writeFileSync(
    join(site, 'no-device.js'),
    "GPUAdapter.prototype.requestDevice = () => Promise.reject(new DOMException('no device for you (test)', 'OperationError'));\n",
  );
  writeFileSync(join(site, 'no-device-worker.js'), "import './no-device.js';\nimport './worker.js';\n");
}

describe('stylizer.js on WebGPU', () => {
  const under = siteUnderTest(blankWithDevicelessWorker, { webgpu: true });
  // Every new WebGPU engine compiles its pipelines again (about 45 s on SwiftShader, 100 s
  // with the warm-up), so the tests share one page and one warmed-up stylizer, `warm`, made
  // once here; a test makes an engine of its own only where its claim needs one. They run in
  // this order: the warm-up's own test first, the crash last (it ends the shared worker).
  const shared = {};
  before(async () => {
    Object.assign(shared, await apiPage(under.browser));
    await shared.page.evaluate(async () => {
      window.statuses = [];
      window.warm = await api.createStylizer({ backend: 'webgpu', onStatus: (s) => statuses.push(s) });
    });
  });

  test('the warm-up compiles the pipelines of a run before the engine reports ready', async () => {
    const { cold, warm, statuses } = await shared.page.evaluate(async () => {
      // The page's kind of run: the fast start, then L-BFGS with a preview of every step.
      const options = { size: 64, iterations: 2, previewEvery: 1 };
      const fresh = await api.createStylizer({ backend: 'webgpu', warmUp: false });
      const cold = (await fresh.stylize(request({ options }))).pipelines;
      fresh.dispose();
      // The shared stylizer's first run: what the warm-up left to compile.
      const warm = (await window.warm.stylize(request({ options }))).pipelines;
      return { cold, warm, statuses };
    });
    const stages = statuses.map((s) => s.stage).filter((s, i, all) => s !== all[i - 1]);
    assert.deepEqual(stages, ['weights', 'starting', 'engine', 'warming', 'ready']);
    const { warmUp } = statuses.at(-1);
    assert.equal(warmUp.error, null);
    console.log(`pipelines: a cold run ${cold}, the warm-up ${warmUp.pipelines} in ${warmUp.ms.toFixed(0)} ms, a run after it ${warm}`);
    // Every kernel a run needs was compiled by the warm-up; what a run after it still
    // compiles is at most a few shape-dependent variants (the photo is 64 × 48, the
    // warm-up's photos 64 × 16 and 51 × 17).
    assert.ok(cold >= 20, `a cold run compiled only ${cold} pipelines`);
    assert.ok(warmUp.pipelines >= cold * 0.9, `the warm-up compiled ${warmUp.pipelines}, a cold run ${cold}`);
    assert.ok(warm <= cold * 0.1, `a run after the warm-up compiled ${warm} of a cold run's ${cold}`);
  });

  test('the implicit-GEMM kernel makes the CPU backend\'s run, step by step (burn\'s direct kernel its first step)', async () => {
    const [gemm, direct, cpu] = await shared.page.evaluate(async () => {
      // From the photo, one scale: the losses of each step depend on the forward pass, and
      // each step after the first on the input gradient.
      const options = { size: 32, minScale: 32, iterations: 3, init: 'content' };
      const once = async (stylizer) => {
        const losses = [];
        const run = await stylizer.stylize(request({ options, onProgress: (p) => losses.push(p.losses.total) }));
        return { backend: run.backend, losses, pixels: [...run.image.data] };
      };
      const fresh = async (settings) => {
        const stylizer = await api.createStylizer({ warmUp: false, ...settings });
        const result = await once(stylizer);
        stylizer.dispose();
        return result;
      };
      // The GEMM kernel is the default on WebGPU: the shared stylizer's.
      return [await once(window.warm), await fresh({ backend: 'webgpu', kernel: 'direct' }), await fresh({ backend: 'cpu' })];
    });
    assert.deepEqual([gemm.backend, direct.backend, cpu.backend], ['webgpu', 'webgpu', 'cpu']);
    console.log(`losses: gemm ${gemm.losses}, direct ${direct.losses}, CPU ${cpu.losses}`);
    // The first step's loss is the forward pass alone: all three agree. f32 sums in another
    // order differ by about 1e-6 of a loss; three L-BFGS steps carry that along but keep it
    // far under 1e-3, while a wrong tap, flip or edge in either pass changes the loss or the
    // steps by far more.
    for (const other of [direct, cpu]) {
      const error = Math.abs(gemm.losses[0] - other.losses[0]) / other.losses[0];
      assert.ok(error < 1e-4, `first step: ${gemm.losses[0]} (gemm) against ${other.losses[0]}: ${error}`);
    }
    // The later steps follow the input gradient: ours agrees with the CPU backend at every
    // step (measured: 1e-6). burn's direct kernel on SwiftShader does not (1.3 % apart at
    // the second step, while it agrees on lavapipe), so it is logged above, not asserted.
    gemm.losses.forEach((loss, i) => {
      const error = Math.abs(loss - cpu.losses[i]) / cpu.losses[i];
      assert.ok(error < 1e-3, `step ${i + 1}: ${loss} (gemm) against ${cpu.losses[i]} (CPU): ${error}`);
    });
    const worst = Math.max(...gemm.pixels.map((v, i) => Math.abs(v - cpu.pixels[i])));
    assert.ok(worst <= 2, `pixels differ by up to ${worst} of 255 from the CPU backend's`);
  });

  test('the objective\'s alternatives run on WebGPU as on the CPU backend, step by step', async () => {
    const [webgpu, cpu] = await shared.page.evaluate(async () => {
      // Wasserstein style loss (Newton–Schulz square roots), depth-scaled layer weights,
      // reflected edges, average pooling and Lanczos-resampled paintings, all at once. The
      // style layers are the 64- and 128-channel ones: the square roots of relu4_1's and
      // relu5_1's 512 × 512 covariances take minutes on SwiftShader (milliseconds on a GPU).
      const options = {
        size: 32, minScale: 32, iterations: 3, init: 'content', styleLoss: 'wasserstein',
        styleLayerWeights: 'coarse-to-fine', padding: 'reflect', pooling: 'average', styleFilter: 'lanczos3',
        styleLayers: [['relu1_1', 1], ['relu2_1', 1]],
      };
      const once = async (stylizer) => {
        const losses = [];
        await stylizer.stylize(request({ options, onProgress: (p) => losses.push(p.losses.total) }));
        return losses;
      };
      const cpu = await api.createStylizer({ backend: 'cpu' });
      const result = [await once(window.warm), await once(cpu)];
      cpu.dispose();
      return result;
    });
    console.log(`alternatives' losses: WebGPU ${webgpu}, CPU ${cpu}`);
    assert.equal(webgpu.length, 3);
    webgpu.forEach((loss, i) => {
      const error = Math.abs(loss - cpu[i]) / cpu[i];
      assert.ok(Number.isFinite(loss) && error < 1e-3, `step ${i + 1}: ${loss} (WebGPU) against ${cpu[i]} (CPU): ${error}`);
    });
    assert.ok(webgpu[2] < webgpu[0], `the steps lower the objective: ${webgpu}`);
  });

  test('a run with masks runs on WebGPU as on the CPU backend, step by step', async () => {
    const [webgpu, cpu] = await shared.page.evaluate(async () => {
      const half = (left) => ({ width: 40, height: 30, data: new Uint8Array(40 * 30).map((_, i) => ((i % 40 < 20) === left ? 255 : 0)) });
      const options = { size: 32, minScale: 32, iterations: 3, init: 'content' };
      const once = async (stylizer) => {
        const losses = [];
        await stylizer.stylize(request({
          styles: [{ image: painting, mask: half(true) }, { image: photo, mask: half(false) }],
          keepMask: { width: 4, height: 3, data: new Uint8Array([255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) },
          options,
          onProgress: (p) => losses.push(p.losses.total),
        }));
        return losses;
      };
      const cpu = await api.createStylizer({ backend: 'cpu' });
      const result = [await once(window.warm), await once(cpu)];
      cpu.dispose();
      return result;
    });
    console.log(`guided losses: WebGPU ${webgpu}, CPU ${cpu}`);
    assert.equal(webgpu.length, 3);
    webgpu.forEach((loss, i) => {
      const error = Math.abs(loss - cpu[i]) / cpu[i];
      assert.ok(Number.isFinite(loss) && error < 1e-3, `step ${i + 1}: ${loss} (WebGPU) against ${cpu[i]} (CPU): ${error}`);
    });
    assert.ok(webgpu[2] < webgpu[0], `the steps lower the objective: ${webgpu}`);
  });

  test('a picture too large for the GPU\'s buffers is refused before any work, and the engine runs on', async () => {
    const { page, workers } = shared;
    const before = await workers.started();
    const [refused, next] = await page.evaluate(async () => {
      // Untiled (an 8 GiB budget), VGG16's first layers at 2560 px would take more than the
      // 1 GiB SwiftShader allows in one buffer.
      const big = new ImageData(2560, 1706);
      const options = { size: 2560, iterations: 1, init: 'content', memoryBudget: 8192 };
      const refused = await settle(window.warm.stylize(request({ content: big, options })));
      const next = await settle(window.warm.stylize(request({ options: { size: 32, minScale: 32, iterations: 1, init: 'content' } })));
      return [refused, next];
    });
    assert.equal(refused.name, 'OptionsError', refused.message);
    assert.match(refused.message, /^too large for this GPU: a pass of VGG16 takes \d+ MB in one buffer, and this GPU allows \d+ MB; choose a smaller size/);
    assert.equal(next.ok, true, next.message);
    assert.equal(await workers.started(), before, 'the same worker ran on');
  });

  test('"auto" runs on the CPU when WebGPU gives no device, and says why', async () => {
    const { ready, run, budgets } = await shared.page.evaluate(async () => {
      const statuses = [];
      const stylizer = await api.createStylizer({
        backend: 'auto',
        workerUrl: '/no-device-worker.js',
        onStatus: (s) => statuses.push(s),
      });
      const run = await settle(stylizer.stylize(request({ options: { size: 32, iterations: 1 } })));
      stylizer.dispose();
      const budgets = { fallback: stylizer.defaults.memoryBudget, webgpu: window.warm.defaults.memoryBudget };
      return { ready: statuses.find((s) => s.stage === 'ready'), run: { ok: run.ok, backend: run.value?.backend }, budgets };
    });
    // The engine picks the memory budget for the device it runs on.
    assert.deepEqual(budgets, { fallback: 1024, webgpu: 768 });
    assert.equal(ready.backend, 'cpu');
    assert.match(ready.fallback, /^the GPU would not start: .*no device for you \(test\)/);
    assert.deepEqual(run, { ok: true, backend: 'cpu' });
  });

  test('a worker that crashes mid-run rejects that run with EngineError, and the next run works', async () => {
    const { page, workers } = shared;
    await page.evaluate(async () => {
      window.progressed = new Promise((resolve) => (window.onFirstProgress = resolve));
      window.crashed = settle(window.warm.stylize(request({
        options: { size: 32, iterations: 400 },
        onProgress: () => onFirstProgress(),
      })));
      await progressed;
    });
    // The shared stylizer's worker, the page's first; the other tests' engines are disposed.
    await workers.workers[0].evaluate(() => setTimeout(() => {
      throw new Error('simulated crash');
    }, 0));
    const crashed = await page.evaluate(() => crashed);
    assert.deepEqual([crashed.ok, crashed.name], [false, 'EngineError']);
    assert.match(crashed.message, /simulated crash/);
    assert.equal(await workers.settled(), 0);
    // A new worker and device: this run compiles its pipelines on demand.
    const next = await page.evaluate(() => settle(window.warm.stylize(request())));
    assert.equal(next.ok, true, next.message);
  });
});
