#!/usr/bin/env node
// Peer benchmark: one Gatys step (VGG16 to conv5_1, content + style loss, gradient to the image,
// an Adam step) on TF.js 4.22's wasm backend (XNNPACK, SIMD, threads) in Debian's Chromium, for
// comparison with our engine's CPU path. Weights are random: they do not change the time.
//
//   node tests/peer/tfjs.mjs [--sizes 64,128] [--threads 1,2] [--iterations 3]
//
// or `import { benchTfjs } from './peer/tfjs.mjs'` from another benchmark.

import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');

// npm ci rewrites node_modules/.package-lock.json, so it dates the installed tree.
function ensureInstalled(log) {
  const installed = join(here, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(here, 'package-lock.json')).mtimeMs) return;
  log('tests/peer: npm ci');
  // npm's output goes to stderr so that stdout stays the Markdown table.
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: ['ignore', 2, 2] });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
};

// Static server for tests/peer. SharedArrayBuffer (hence the threaded wasm binary) needs a
// cross-origin isolated page, so every response carries COOP and COEP. `requested` lists the
// paths asked for, so a run can tell which .wasm binary the backend chose.
function serve() {
  const requested = [];
  const server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return res.writeHead(400).end();
    }
    requested.push(path);
    const file = normalize(join(here, path === '/' ? 'index.html' : path));
    const type = TYPES[extname(file)];
    if (!file.startsWith(here + sep) || !type || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    // no-store: each page fetches the binary again, so `requested` is the truth for each page.
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, requested, base: `http://127.0.0.1:${server.address().port}/` })),
  );
}

// In the page: the wasm backend with `threads` threads, then VGG16's convolutions to conv5_1
// with seeded random weights (He scale, so activations neither vanish nor explode).
async function setupPage({ base, threads }) {
  // The backend caps XNNPACK's pool at navigator.hardwareConcurrency / 2 (it assumes two
  // hyper-threads a core), which on a 2-core machine is one thread whatever setThreadsCount
  // says. Report twice the threads asked for, if more than the real figure, so the pool has them.
  const cores = navigator.hardwareConcurrency;
  if (cores < 2 * threads) Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads });
  tf.wasm.setWasmPaths(base + 'node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  tf.wasm.setThreadsCount(threads); // must come before the backend initialises
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  await tf.ready();
  const blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512]];
  let cin = 3;
  let seed = 1;
  const vgg = blocks.map((block) =>
    block.map((cout) => {
      const w = tf.randomNormal([3, 3, cin, cout], 0, Math.sqrt(2 / (9 * cin)), 'float32', seed++);
      cin = cout;
      return [w, tf.fill([cout], 0.01)];
    }),
  );
  // Unfused conv + bias + ReLU: fused conv2d's gradient also computes the filter gradient, and
  // the wasm backend has no Conv2DBackpropFilter kernel (nor would our engine do that work).
  window.features = (x) => {
    const out = {};
    vgg.forEach((block, i) => {
      if (i > 0) x = tf.maxPool(x, 2, 2, 'valid');
      block.forEach(([w, b], j) => {
        x = tf.relu(tf.add(tf.conv2d(x, w, 1, 'same'), b));
        out[`conv${i + 1}_${j + 1}`] = x;
      });
    });
    return out;
  };
  return { backend: tf.getBackend(), threads: tf.wasm.getThreadsCount(), version: tf.version_core, cores,
    reported: navigator.hardwareConcurrency };
}

// In the page: `steps` Adam steps on a size×size image; returns each step's time in ms.
async function runSize({ size, steps }) {
  const STYLE = ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'];
  const gram = (f) => {
    const [, h, w, c] = f.shape;
    const m = tf.reshape(f, [h * w, c]);
    return tf.div(tf.matMul(m, m, true, false), h * w);
  };
  const image = (seed) => tf.randomUniform([1, size, size, 3], -100, 100, 'float32', seed);
  // Targets from a fixed content and style picture, once per size.
  const targets = tf.tidy(() => {
    const content = window.features(image(11)).conv4_2;
    const style = window.features(image(12));
    return [content, ...STYLE.map((name) => gram(style[name]))];
  });
  const x = tf.tidy(() => tf.variable(image(13))); // tidy frees the initial value, not the variable
  const optimizer = tf.train.adam(0.02);
  const loss = () => {
    const f = window.features(x);
    const style = STYLE.map((name, i) => tf.mean(tf.squaredDifference(gram(f[name]), targets[i + 1])));
    return tf.addN([tf.mean(tf.squaredDifference(f.conv4_2, targets[0])), ...style]);
  };
  const times = [];
  try {
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      // minimize() runs the forward pass, tf.variableGrads and the update inside a tidy.
      const cost = optimizer.minimize(loss, true, [x]);
      await cost.data();
      cost.dispose();
      times.push(performance.now() - start);
    }
  } finally {
    optimizer.dispose();
    x.dispose();
    tf.dispose(targets);
  }
  return { times, tensors: tf.memory().numTensors };
}

const mean = (xs) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

/**
 * Times the Gatys step at each size for each thread count. `iterations` is a number, an object
 * keyed by size, or a function of the size; the first step is the warm-up, reported apart.
 * Returns [{ size, threads, binary, msFirst, ms }] or [{ size, threads, error }] for a size
 * that failed (out of memory, say).
 */
export async function benchTfjs({ sizes = [64, 128], threads = [1, 2], iterations = 3, log = () => {} } = {}) {
  const stepsFor = (size) =>
    typeof iterations === 'function' ? iterations(size) : typeof iterations === 'number' ? iterations : iterations[size];
  ensureInstalled(log);
  const { server, requested, base } = await serve();
  const profile = mkdtempSync(join(tmpdir(), 'style-transfer-tfjs-'));
  let context;
  const rows = [];
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      ignoreDefaultArgs: ['--headless'],
    });
    for (const n of threads) {
      let page = null;
      let binary;
      const open = async () => {
        page = await context.newPage();
        page.on('pageerror', (e) => log(`page error (${n} threads): ${e.message}`));
        const before = requested.length;
        await page.goto(base + 'index.html');
        if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error('the page is not crossOriginIsolated');
        const info = await page.evaluate(setupPage, { base, threads: n });
        if (info.backend !== 'wasm' || info.threads !== n) throw new Error(`asked for wasm with ${n} threads, got ${JSON.stringify(info)}`);
        binary = requested.slice(before).filter((p) => p.endsWith('.wasm')).map((p) => p.split('/').pop()).join(', ');
        log(`TF.js ${info.version} wasm, ${info.threads} thread(s) (hardwareConcurrency ${info.cores}` +
          `${info.reported !== info.cores ? `, reported as ${info.reported}` : ''}), ` +
          `binary ${binary || '(none requested)'}`);
      };
      for (const size of sizes) {
        if (!page) await open();
        try {
          const { times, tensors } = await page.evaluate(runSize, { size, steps: stepsFor(size) });
          const row = { size, threads: n, binary, msFirst: Math.round(times[0]), ms: mean(times.slice(1)) };
          rows.push(row);
          log(`${size} px, ${n} thread(s): first ${row.msFirst} ms, then ${row.ms} ms per step ` +
            `(${times.map(Math.round).join(', ')}; ${tensors} tensors live)`);
        } catch (e) {
          const error = String(e.message ?? e).split('\n')[0].replace(/^page\.evaluate: /, '');
          rows.push({ size, threads: n, error });
          log(`${size} px, ${n} thread(s): ${error}`);
          // A wasm abort (out of memory) leaves the module unusable: the next size gets a fresh page.
          await page.close().catch(() => {});
          page = null;
        }
      }
      await page?.close();
    }
  } finally {
    await context?.close();
    server.closeAllConnections();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const numbers = (s) => s.split(',').map(Number);
  const started = Date.now();
  const rows = await benchTfjs({
    sizes: numbers(arg('--sizes', '64,128')),
    threads: numbers(arg('--threads', '1,2')),
    iterations: Number(arg('--iterations', 3)),
    log: (line) => console.error(line),
  });
  console.log('| size | threads | wasm binary | first step (ms) | ms per step after the first |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(r.error ? `| ${r.size} px | ${r.threads} | | ${r.error} | |`
      : `| ${r.size} px | ${r.threads} | ${r.binary} | ${r.msFirst} | ${r.ms ?? '–'} |`);
  }
  console.error(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
