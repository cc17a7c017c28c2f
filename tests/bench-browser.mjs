#!/usr/bin/env node
// Browser benchmark (not a test): per-iteration time of the WebGPU and the CPU path, time from
// Start to the first picture (the feed-forward start) and to the first optimisation step, the
// feed-forward picture alone (Quick) at `--quick-sizes`, and the download sizes. Prints Markdown tables;
// README.md records it. `--site DIR` (repeatable) benchmarks built copies of www/ side by side
// in one run (say, with and without wasm SIMD); `--paths cpu` skips WebGPU; `--sizes 64,128`;
// `--regions 0,2,3` adds the cost of painting regions (masks) side by side; `--only frames`
// times moving pictures (paintFrame() at `--frame-sizes`, stylizeVideo() of a 10 s and a 60 s
// clip with the browser's peak memory); `--only threads` times the CPU engine's thread pool at
// `--thread-sizes` with `--threads 1,2` beside TF.js 4.22's wasm backend (`--no-peer`: ours alone).
//
//   node www/build.mjs && (cd tests && node bench-browser.mjs [--iterations 8] [--screenshot out.png])

import { execSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { argument, choose, fixture, ready, root, start, tiny } from './browser/harness.mjs';

const all = (name) => process.argv.flatMap((a, i) => (a === name ? [process.argv[i + 1]] : []));
const sites = all('--site').length ? all('--site') : [undefined];
const paths = argument('--paths', 'webgpu,cpu').split(',');
const sizes = argument('--sizes', '64,128').split(',').map(Number);
const iterations = Number(argument('--iterations', 8));
const screenshot = argument('--screenshot', null);
const quickSizes = argument('--quick-sizes', '256,512,1024').split(',').map(Number);
const content = argument('--content', fixture('photo.jpg'));
// VGG's convolution kernels compared on WebGPU (our implicit-GEMM one and burn's direct one).
const kernels = argument('--kernels', 'gemm,direct').split(',');
const style = argument('--style', fixture('painting.png'));
// `--only page,kernels,regions,frames,threads,quick,profile,download` runs those sections alone.
const only = argument('--only', null);
const wants = (section) => !only || only.split(',').includes(section);

const rows = [];
for (const dir of sites.filter(() => wants('page'))) {
  for (const webgpu of [true, false].filter((w) => paths.includes(w ? 'webgpu' : 'cpu'))) {
    const browser = await start({ webgpu, dir });
    for (const size of sizes) {
      const page = await browser.page();
      const loaded = Date.now();
      const backend = await ready(page);
      await choose(page, { content, styles: [style] });
      await tiny(page, size, iterations);
      const clicked = Date.now();
      await page.click('#start');
      await page.waitForFunction(() => document.getElementById('output').dataset.frames !== '0', null, { timeout: 600_000 });
      const firstPicture = Date.now();
      await page.waitForFunction(() => /^Step \d+/.test(document.getElementById('progress-text').textContent), null, {
        timeout: 600_000,
      });
      const firstFrame = Date.now();
      await page.waitForFunction(() => /^(Done|Cancelled)/.test(document.getElementById('progress-text').textContent) ||
        !document.getElementById('message').hidden, null, { timeout: 1_800_000 });
      const text = await page.textContent('#progress-text');
      const ms = Number(text.match(/(\d+) ms per step/)?.[1]);
      const site = dir ? dir.split('/').pop() : 'www';
      rows.push({ site, backend, size, ms, ready: clicked - loaded, firstPicture: firstPicture - clicked, firstFrame: firstFrame - clicked, text });
      if (screenshot && !webgpu && size === 128) await page.screenshot({ path: screenshot, fullPage: true });
      await page.close();
    }
    if (browser.errors.length) console.error(browser.errors);
    await browser.close();
  }
}

if (rows.length) console.log(`| site | path | size | ms per iteration (after the first) | page load → engine ready | Start → first picture (fast start) | Start → first step |`);
if (rows.length) console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
for (const r of rows) {
  console.log(
    `| ${r.site} | ${r.backend} | ${r.size} px | ${r.ms} | ${(r.ready / 1000).toFixed(1)} s | ` +
      `${(r.firstPicture / 1000).toFixed(1)} s | ${(r.firstFrame / 1000).toFixed(1)} s |`,
  );
}

// VGG's convolution kernels side by side on WebGPU, through the JS API without a warm-up, from
// the photo (every progress report is an iteration): the first iteration (which compiles the
// pipelines), the steady ones, and the pipelines compiled; then the warm-up and Start → first
// progress report after it, with the default (fast) start.
const kernelRows = [];
if (paths.includes('webgpu') && wants('kernels')) {
  const browser = await start({ webgpu: true, dir: sites[0] });
  const page = await browser.page();
  await ready(page);
  for (const kernel of kernels) {
    for (const size of sizes) {
      const row = await page.evaluate(async ({ kernel, size, iterations }) => {
        const api = await import('/stylizer.js');
        const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
        const request = {
          content: await image('/gallery/the_scream.jpg'),
          styles: [{ image: await image('/gallery/starry_night.jpg') }],
        };
        const cold = await api.createStylizer({ backend: 'webgpu', kernel, warmUp: false });
        let began = performance.now();
        let first = null;
        const run = await cold.stylize({
          ...request,
          options: { size, iterations, minScale: size, init: 'content' },
          onProgress: () => (first ??= performance.now() - began),
        });
        cold.dispose();
        const statuses = [];
        const warm = await api.createStylizer({
          backend: 'webgpu', kernel, warmUp: { previewEvery: 1 }, onStatus: (s) => statuses.push(s),
        });
        began = performance.now();
        let firstWarm = null;
        const after = await warm.stylize({
          ...request,
          options: { size, iterations: 2, previewEvery: 1 },
          onProgress: () => (firstWarm ??= performance.now() - began),
        });
        warm.dispose();
        const { warmUp } = statuses.at(-1);
        return { first, steady: run.msPerIteration, pipelines: run.pipelines, warmUp, firstWarm, after: after.pipelines };
      }, { kernel, size, iterations });
      kernelRows.push({ kernel, size, ...row });
    }
  }
  if (browser.errors.length) console.error(browser.errors);
  await browser.close();
  console.log('\n| kernel | size | first iteration (cold) | ms per iteration after it | pipelines of a cold run | warm-up | Start → first report after the warm-up | pipelines after it |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of kernelRows) {
    console.log(
      `| ${r.kernel} | ${r.size} px | ${(r.first / 1000).toFixed(1)} s | ${r.steady.toFixed(0)} | ${r.pipelines} | ` +
        `${(r.warmUp.ms / 1000).toFixed(1)} s, ${r.warmUp.pipelines} pipelines | ${(r.firstWarm / 1000).toFixed(1)} s | ${r.after} |`,
    );
  }
}

// The cost of painting regions: the same run with n paintings each masked to a vertical band
// of the picture (0: no mask), side by side per path, through the JS API from the photo, each
// after a warm-up with masks (`--regions 0,2,3`; none by default).
const regionCounts = argument('--regions', '').split(',').filter(Boolean).map(Number);
const regionRows = [];
for (const webgpu of [true, false].filter((w) => regionCounts.length && wants('regions') && paths.includes(w ? 'webgpu' : 'cpu'))) {
  const browser = await start({ webgpu, dir: sites[0] });
  const page = await browser.page();
  const backend = await ready(page);
  for (const size of sizes) {
    const times = await page.evaluate(async ({ size, iterations, backend, regionCounts }) => {
      const api = await import('/stylizer.js');
      const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
      const content = await image('/gallery/the_scream.jpg');
      const paintings = await Promise.all(['starry_night', 'great_wave', 'udnie'].map((n) => image(`/gallery/${n}.jpg`)));
      const band = (k, n) => {
        const [w, h] = [content.width, content.height];
        return { width: w, height: h, data: new Uint8Array(w * h).map((_, i) => (Math.floor(((i % w) * n) / w) === k ? 255 : 0)) };
      };
      const options = { size, iterations, minScale: size, init: 'content' };
      const stylizer = await api.createStylizer({ backend, warmUp: options });
      const times = {};
      for (const n of regionCounts) {
        const styles = n === 0 ? [{ image: paintings[0] }] : paintings.slice(0, n).map((image, k) => ({ image, mask: band(k, n) }));
        times[n] = (await stylizer.stylize({ content, styles, options })).msPerIteration;
      }
      stylizer.dispose();
      return times;
    }, { size, iterations, backend, regionCounts });
    regionRows.push({ backend, size, times });
  }
  if (browser.errors.length) console.error(browser.errors);
  await browser.close();
}
if (regionRows.length) {
  console.log(`\n| path | size | ${regionCounts.map((n) => (n ? `${n} regions` : 'no mask')).join(' | ')} (ms per iteration) |`);
  console.log(`| --- | --- | ${regionCounts.map(() => '---').join(' | ')} |`);
  for (const r of regionRows) console.log(`| ${r.backend} | ${r.size} px | ${regionCounts.map((n) => r.times[n].toFixed(0)).join(' | ')} |`);
}

// Moving pictures through the JS API: paintFrame() on a panning picture at `--frame-sizes`
// (the first frame apart, then the mean of the next `--frames`: the engine's time and the
// call's, with the frame's scaling and transfer), and stylizeVideo() of a 10 s and a 60 s clip
// made in the page (`--video-size`, default 64 px, on the CPU), with the browser's peak memory
// (every Chromium process's resident memory, summed, sampled every 100 ms) during each.
const frameSizes = argument('--frame-sizes', '256,384,512').split(',').map(Number);
const timedFrames = Number(argument('--frames', 8));
const frameRows = [];
const videoRows = [];
// The site with the tests' clip maker beside it (it imports the site's mediabunny).
const framesSite = wants('frames') && mkdtempSync(join(tmpdir(), 'style-transfer-bench-'));
if (framesSite) {
  cpSync(sites[0] ?? join(root, 'dist', 'site'), framesSite, { recursive: true, preserveTimestamps: true });
  copyFileSync(join(root, 'tests', 'browser', 'video', 'clips.js'), join(framesSite, 'test-clips.js'));
}
for (const webgpu of [true, false].filter((w) => wants('frames') && paths.includes(w ? 'webgpu' : 'cpu'))) {
  const browser = await start({ webgpu, dir: framesSite });
  const page = await browser.page();
  const backend = await ready(page);
  for (const size of frameSizes) {
    const times = await page.evaluate(async ({ size, backend, timedFrames }) => {
      const api = await import('/stylizer.js');
      const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
      const scene = await image('/gallery/the_scream.jpg');
      const styles = [{ image: await image('/gallery/starry_night.jpg') }];
      const stylizer = await api.createStylizer({ backend, warmUp: false });
      const canvas = new OffscreenCanvas(Math.round((size * 4) / 3), size);
      const frame = (k) => {
        canvas.getContext('2d').drawImage(scene, -2 * k, 0, scene.width * 1.2, scene.height * 1.2);
        return canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      };
      let began = performance.now();
      await stylizer.paintFrame(frame(0), styles, { options: { size } });
      const first = performance.now() - began;
      let engine = 0;
      began = performance.now();
      for (let k = 1; k <= timedFrames; k++) {
        await stylizer.paintFrame(frame(k), styles, { options: { size } });
        engine += stylizer.frameTime;
      }
      const call = (performance.now() - began) / timedFrames;
      stylizer.dispose();
      return { first, engine: engine / timedFrames, call };
    }, { size, backend, timedFrames });
    frameRows.push({ backend, size, ...times });
  }
  if (backend === 'cpu' && !argument('--video-size', '64').startsWith('0')) {
    const videoSize = Number(argument('--video-size', '64'));
    for (const seconds of [10, 60]) {
      const rss = () => execSync('ps -C chromium -o rss=').toString().split('\n').filter(Boolean).reduce((sum, kb) => sum + Number(kb), 0) / 1024;
      await page.evaluate(async () => (window.clips = await import('/test-clips.js')));
      await page.evaluate(async (seconds) => { window.clip = await clips.makeClip({ frames: 24 * seconds, width: 160, height: 120 }); }, seconds);
      let peak = rss();
      const before = peak;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 100);
      const result = await page.evaluate(async ({ videoSize }) => {
        const api = await import('/stylizer.js');
        const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
        const stylizer = await api.createStylizer({ backend: 'cpu' });
        const began = performance.now();
        const blob = await stylizer.stylizeVideo(clip, { size: videoSize }, { styles: [{ image: await image('/gallery/starry_night.jpg') }] });
        const ms = performance.now() - began;
        stylizer.dispose();
        return { ms, bytes: blob.size };
      }, { videoSize });
      clearInterval(sampler);
      videoRows.push({ seconds, ...result, before, peak });
    }
  }
  if (browser.errors.length) console.error(browser.errors);
  await browser.close();
}
if (framesSite) rmSync(framesSite, { recursive: true, force: true });
if (frameRows.length) {
  console.log('\n| path | frame size | first frame | engine ms a frame | paintFrame() ms a frame | frames a second |\n| --- | --- | --- | --- | --- | --- |');
  for (const r of frameRows) {
    console.log(`| ${r.backend} | ${Math.round((r.size * 4) / 3)}×${r.size} → ${r.size} px long side | ${(r.first / 1000).toFixed(2)} s | ${r.engine.toFixed(0)} | ${r.call.toFixed(0)} | ${(1000 / r.call).toFixed(1)} |`);
  }
}
if (videoRows.length) {
  console.log('\n| clip (160×120, 24 fps) | stylized (CPU) | time | frames a second | WebM | browser memory before | peak during |\n| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of videoRows) {
    console.log(`| ${r.seconds} s | ${argument('--video-size', '64')} px | ${(r.ms / 1000).toFixed(1)} s | ${((24 * r.seconds * 1000) / r.ms).toFixed(1)} | ${(r.bytes / 1e6).toFixed(2)} MB | ${r.before.toFixed(0)} MB | ${r.peak.toFixed(0)} MB |`);
  }
}

// The feed-forward picture alone (Quick mode) through the JS API: the first call (pipelines,
// allocation) and a second one.
const quick = [];
for (const webgpu of [true, false].filter((w) => wants('quick') && paths.includes(w ? 'webgpu' : 'cpu'))) {
  const browser = await start({ webgpu, dir: sites[0] });
  const page = await browser.page();
  const backend = await ready(page);
  for (const size of quickSizes) {
    const times = await page.evaluate(async ({ size, backend }) => {
      const api = await import('/stylizer.js');
      const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
      const stylizer = await api.createStylizer({ backend });
      const request = {
        content: await image('/gallery/the_scream.jpg'),
        styles: [{ image: await image('/gallery/starry_night.jpg') }],
        options: { size, iterations: 0, init: 'fast' },
      };
      const times = [];
      for (let i = 0; i < 2; i++) {
        const began = performance.now();
        await stylizer.stylize(request);
        times.push(performance.now() - began);
      }
      stylizer.dispose();
      return times;
    }, { size, backend });
    quick.push({ backend, size, times });
  }
  if (browser.errors.length) console.error(browser.errors);
  await browser.close();
}
if (quick.length) console.log('\n| path | size | Quick picture, first call | second call |\n| --- | --- | --- | --- |');
for (const q of quick) {
  console.log(`| ${q.backend} | ${q.size} px | ${(q.times[0] / 1000).toFixed(2)} s | ${(q.times[1] / 1000).toFixed(2)} s |`);
}
// The CPU path's per-phase profile, through the JS API on the page: mean milliseconds per
// iteration (the first left out) in each phase, with previews every 2 steps (the page's rate)
// and without, so the preview's share of a step shows.
const profiles = [];
if (paths.includes('cpu') && wants('profile')) {
  for (const dir of sites) {
    const browser = await start({ webgpu: false, dir });
    const page = await browser.page();
    await ready(page);
    for (const size of sizes) {
      for (const previewEvery of [2, 0]) {
        const result = await page.evaluate(async ({ size, iterations, previewEvery }) => {
          const api = await import('/stylizer.js');
          const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
          const stylizer = await api.createStylizer({ backend: 'cpu' });
          const phases = [];
          const started = performance.now();
          const run = await stylizer.stylize({
            content: await image('/gallery/the_scream.jpg'),
            styles: [{ image: await image('/gallery/starry_night.jpg') }],
            // From the photo: every report is a step, and the first is left out below.
            options: { size, iterations, minScale: size, previewEvery, init: 'content' },
            onProgress: (p) => phases.push({ ...p.phases, at: performance.now() - started }),
          });
          stylizer.dispose();
          const later = phases.slice(1);
          const mean = (key) => later.reduce((sum, p) => sum + p[key], 0) / later.length;
          return {
            msPerIteration: run.msPerIteration,
            network: mean('network'), read: mean('read'), optimizer: mean('optimizer'), preview: mean('preview'),
          };
        }, { size, iterations, previewEvery });
        profiles.push({ site: dir ? dir.split('/').pop() : 'www', size, previewEvery, ...result });
      }
    }
    if (browser.errors.length) console.error(browser.errors);
    await browser.close();
  }
  console.log('\n| site | size | previews | ms per iteration | network | read | optimiser | preview | outside the network |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const p of profiles) {
    const outside = p.msPerIteration - p.network;
    console.log(
      `| ${p.site} | ${p.size} px | ${p.previewEvery ? `every ${p.previewEvery}` : 'none'} | ${p.msPerIteration.toFixed(0)} | ` +
        `${p.network.toFixed(1)} | ${p.read.toFixed(2)} | ${p.optimizer.toFixed(2)} | ${p.preview.toFixed(2)} | ` +
        `${outside.toFixed(1)} (${((100 * outside) / p.msPerIteration).toFixed(1)} %) |`,
    );
  }
}

// The CPU engine's thread pool: time per step through the JS API at `--thread-sizes` with
// `--threads` (1 and 2 by default; more on a machine that has the cores), from the photo with
// no previews, `--thread-steps` steps with the first left out; each count in its own
// stylizer, the counts taking turns `--thread-repeats` times, the fastest run of each kept
// (another process on a shared machine only ever slows a run down).
const threadSizes = argument('--thread-sizes', '128,256,384,512').split(',').map(Number);
const threadCounts = argument('--threads', '1,2').split(',').map(Number);
const threadSteps = Number(argument('--thread-steps', 6));
const threadRepeats = Number(argument('--thread-repeats', 2));
const threadRows = [];
if (paths.includes('cpu') && wants('threads')) {
  const browser = await start({ webgpu: false });
  const page = await browser.page();
  await ready(page);
  for (const size of threadSizes) {
    const row = { size, ms: {}, memory: {} };
    for (const threads of Array.from({ length: threadRepeats }, () => threadCounts).flat()) {
      // The browser's memory (every Chromium process's resident memory, summed) during the run.
      const rss = () => execSync('ps -C chromium -o rss=').toString().split('\n').filter(Boolean).reduce((sum, kb) => sum + Number(kb), 0) / 1024;
      const before = rss();
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 100);
      const result = await page.evaluate(async ({ size, threads, iterations }) => {
        const api = await import('/stylizer.js');
        const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
        const stylizer = await api.createStylizer({ backend: 'cpu', threads });
        const run = await stylizer.stylize({
          content: await image('/gallery/the_scream.jpg'),
          styles: [{ image: await image('/gallery/starry_night.jpg') }],
          options: { size, iterations, minScale: size, previewEvery: 0, init: 'content' },
        });
        const ran = stylizer.threads;
        stylizer.dispose();
        return { ms: run.msPerIteration, ran, isolated: self.crossOriginIsolated };
      }, { size, threads, iterations: threadSteps });
      clearInterval(sampler);
      if (result.ran !== threads) throw new Error(`asked for ${threads} threads, ran on ${result.ran} (isolated: ${result.isolated})`);
      row.ms[threads] = Math.min(row.ms[threads] ?? Infinity, result.ms);
      row.memory[threads] = Math.max(row.memory[threads] ?? 0, peak - before);
      console.error(`threads: ${size} px, ${threads} thread(s): ${result.ms.toFixed(0)} ms per step, browser memory +${(peak - before).toFixed(0)} MB at its peak`);
    }
    threadRows.push(row);
  }
  if (browser.errors.length) console.error(browser.errors);
  await browser.close();
  // The peer in the same run: TF.js 4.22's wasm backend (XNNPACK, threaded SIMD binary) on a
  // cross-origin-isolated page, one Gatys step with Adam (tests/peer/tfjs.mjs).
  if (!process.argv.includes('--no-peer')) {
    const { benchTfjs } = await import('./peer/tfjs.mjs');
    const peer = await benchTfjs({ sizes: threadSizes, threads: threadCounts, iterations: (size) => (size >= 384 ? 2 : 3), log: (line) => console.error(`TF.js: ${line}`) });
    for (const r of threadRows) r.peer = Object.fromEntries(peer.filter((p) => p.size === r.size).map((p) => [p.threads, p.error ? NaN : p.ms]));
  }
  const [one] = threadCounts;
  const seconds = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '–');
  const columns = (who) => [...threadCounts.map((n) => `${who}, ${n} thread${n > 1 ? 's' : ''}`), ...threadCounts.slice(1).map((n) => `${who} ${n} : ${one}`)];
  const header = [...columns('ours'), ...threadCounts.map((n) => `ours, memory peak (${n})`), ...(threadRows[0]?.peer ? columns('TF.js wasm') : [])];
  console.log(`\n| size | ${header.join(' | ')} |`);
  console.log(`| --- | ${header.map(() => '---').join(' | ')} |`);
  for (const r of threadRows) {
    const cells = (ms) => [...threadCounts.map((n) => seconds(ms[n])), ...threadCounts.slice(1).map((n) => (ms[n] / ms[one]).toFixed(2))];
    const memory = threadCounts.map((n) => `+${r.memory[n].toFixed(0)} MB`);
    console.log(`| ${r.size} px | ${[...cells(r.ms), ...memory, ...(r.peer ? cells(r.peer) : [])].join(' | ')} |`);
  }
}

const pkg = join(sites[0] ?? join(root, 'www'), 'pkg');
const build = JSON.parse(readFileSync(join(pkg, 'build.json'), 'utf8'));
const weightFiles = Object.entries(build.weights).map(([network, w]) => [`${network} weights`, w.url]);
const engineFiles = Object.entries(build.engines).map(([kind, e]) => [`${kind} engine`, e.wasm]);
for (const [what, file] of [...engineFiles, ...weightFiles].filter(() => wants('download'))) {
  const bytes = readFileSync(join(pkg, file));
  console.log(`${what}: ${(bytes.length / 1e6).toFixed(1)} MB raw, ${(gzipSync(bytes).length / 1e6).toFixed(1)} MB gzipped`);
}
