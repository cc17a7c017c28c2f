#!/usr/bin/env node
// Print-size benchmark in the page (not a test): time per iteration and the tab's peak memory
// at large sizes, whole and tiled, one fresh Chromium per row so that each peak is the row's
// own. A row is `size:budget` (long side in px, `memoryBudget` in MiB); the plan says how many
// tiles the budget gives. Peak memory is the kernel's high-water mark (VmHWM) of Chromium's
// renderer process, which holds the page and its worker (the engine's wasm memory on the CPU
// path), and of its GPU process (SwiftShader's buffers on the WebGPU path), read from /proc.
// Prints a Markdown table; README.md records it.
//
//   node www/build.mjs && (cd tests && node bench-print.mjs --path cpu --rows 512:768,512:128 [--iterations 2])

import { readFileSync, readdirSync } from 'node:fs';

import { argument, start } from './browser/harness.mjs';

const path = argument('--path', 'cpu');
const iterations = Number(argument('--iterations', 2));
const rows = argument('--rows', '512:768,512:128,1024:768').split(',').map((row) => row.split(':').map(Number));

/** Every process below this one (Chromium and its children), as {pid, type, peak} with peak in bytes. */
function chromiumProcesses() {
  const parents = new Map();
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  for (const pid of pids) {
    try {
      // The parent is the fourth field, after the command name in parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const below = (pid) => {
    for (let p = parents.get(pid); p; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  const found = [];
  for (const pid of pids.filter(below)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const type = cmdline.match(/--type=([\w-]+)/)?.[1] ?? 'browser';
      const peak = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)?.[1] ?? 0) * 1024;
      found.push({ pid, type, peak });
    } catch {
      // As above.
    }
  }
  return found;
}

const peakOf = (type) => Math.max(0, ...chromiumProcesses().filter((p) => p.type === type).map((p) => p.peak));
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

const results = [];
for (const [size, budget] of rows) {
  const browser = await start({ webgpu: path === 'webgpu' });
  // A blank document on the site's origin, which runs no engine of its own, so that the
  // renderer's peak is the engine's: the API's worker, its wasm memory and weights, the run.
  const page = await browser.context.newPage();
  await page.route('**/blank.html', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' }));
  await page.goto(`${browser.url}blank.html`);
  const backend = path;
  const before = { renderer: peakOf('renderer'), gpu: peakOf('gpu-process') };
  const began = Date.now();
  const result = await page.evaluate(async ({ size, budget, iterations, backend }) => {
    const api = await import('/stylizer.js');
    const image = async (url) => createImageBitmap(await (await fetch(url)).blob());
    const content = await image('/gallery/the_scream.jpg');
    const stylizer = await api.createStylizer({ backend, warmUp: false });
    const options = { size, iterations, minScale: size, init: 'content', memoryBudget: budget, previewEvery: 0 };
    const [plan] = await stylizer.plan({ width: content.width, height: content.height, options });
    const steps = [];
    const started = performance.now();
    try {
      const run = await stylizer.stylize({
        content,
        styles: [{ image: await image('/gallery/starry_night.jpg') }],
        options,
        onProgress: (p) => p.tile || steps.push(performance.now() - started),
      });
      return { plan, steps, msPerIteration: run.msPerIteration };
    } catch (error) {
      return { plan, steps, error: `${error.name}: ${error.message}` };
    } finally {
      stylizer.dispose();
    }
  }, { size, budget, iterations, backend });
  const after = { renderer: peakOf('renderer'), gpu: peakOf('gpu-process') };
  results.push({ size, budget, backend, before, after, seconds: (Date.now() - began) / 1000, ...result });
  console.error(JSON.stringify(results.at(-1)));
  if (browser.errors.length) console.error(browser.errors);
  await browser.close();
}

console.log('| path | size | memory budget | tiles | first step (with the targets) | s per step after it | renderer peak (empty page → after the run) | GPU process peak |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  const steady = r.error ? r.error : (r.msPerIteration / 1000).toFixed(1);
  const first = r.steps.length ? `${(r.steps[0] / 1000).toFixed(1)} s` : '—';
  console.log(
    `| ${r.backend} | ${r.plan.width} × ${r.plan.height} | ${r.budget} MiB | ${r.plan.tiles} | ${first} | ${steady} | ` +
      `${mb(r.before.renderer)} → ${mb(r.after.renderer)} | ${mb(r.before.gpu)} → ${mb(r.after.gpu)} |`,
  );
}
