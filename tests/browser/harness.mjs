// Shared by the browser tests: Debian's Chromium through playwright-core, WebGPU on
// SwiftShader, the app served on 127.0.0.1, and every console error, page error or
// Content-Security-Policy violation recorded so that a test can fail on it.

import { execFileSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

import { serve } from '../../www/serve.mjs';
import { isServed } from '../../www/shell.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixture = (name) => join(root, 'tests', 'fixtures', name);
export const fixtureBytes = (name) => readFileSync(fixture(name));

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A static host at its plainest, serving `dir`: files by path (a folder's index.html), a
 * content type by extension, 404 otherwise; no compression, no CORS, no special rules.
 */
export function plainServer(dir, log = []) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml' };
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    log.push(path);
    let file = join(dir, normalize(path));
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(dir) || !existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${server.address().port}/` })));
}

/**
 * Starts Chromium (with WebGPU on SwiftShader unless `webgpu` is false, a fake camera with
 * `camera`) and a server of `dir` (the deployable site dist/site by default, served by
 * www/serve.mjs as a static host with compressed copies; the development server with `dev`,
 * with the edits of `sources` (www/ by default); the plainest static host with `plain`);
 * `served` lists the paths the server answered; `server` is the Node server (for
 * `failRequests`).
 */
export async function start({ webgpu = true, dir = join(root, 'dist', 'site'), dev = false, sources, camera = false, viewport, plain = false } = {}) {
  const served = [];
  const { server, url } = await (plain ? plainServer(dir, served) : serve({ port: 0, dir, sources, log: served, dev }));
  const profile = mkdtempSync(join(tmpdir(), 'style-transfer-chromium-'));
  const args = [...CHROMIUM_ARGS];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  // A fake camera (a test pattern) whose permission prompt is answered yes, or left to
  // headless Chromium, which refuses it (`camera: 'denied'`).
  if (camera) args.push('--use-fake-device-for-media-stream');
  if (camera === true) args.push('--use-fake-ui-for-media-stream');
  // A fresh profile each time: nothing cached from an earlier run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args,
    ignoreDefaultArgs: ['--headless'],
    viewport: viewport ?? { width: 1000, height: 900 },
  });
  const errors = [];
  const requests = [];
  await context.addInitScript(() => {
    // Whatever the site's Content-Security-Policy (www/headers.mjs) refuses is an error too.
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} refused ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`),
    );
    // `blobOf(url)`: the file behind a page's `blob:` URL (a download link's), which the
    // site's policy lets nothing fetch, the tests included.
    const blobs = new Map();
    const { createObjectURL, revokeObjectURL } = URL;
    URL.createObjectURL = (object) => {
      const url = createObjectURL(object);
      blobs.set(url, object);
      return url;
    };
    URL.revokeObjectURL = (url) => (blobs.delete(url), revokeObjectURL(url));
    window.blobOf = (url) => blobs.get(url);
  });
  context.on('page', (page) => watch(page, errors));
  context.on('request', (request) => requests.push(request));
  return {
    url,
    served,
    server,
    context,
    /** This browser's resident memory in MB: {total, gpu, renderers, rest} (`browserMemory`). */
    memory: () => browserMemory(profile),
    errors,
    requests,
    async page(path = '') {
      const page = await context.newPage();
      await page.goto(url + path);
      return page;
    },
    async close() {
      await context.close();
      server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The resident memory, in MB, of the Chromium started with `profile` and of every process
 * under it, from `ps`: {total, gpu (the GPU process: WebGPU's buffers and shaders),
 * renderers (the pages and their workers), rest}.
 */
function browserMemory(profile) {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, ppid, rss, ...args] = line.trim().split(/\s+/);
      return { pid, ppid, mb: Number(rss) / 1024, type: /--type=([a-z-]+)/.exec(args.join(' '))?.[1], args: args.join(' ') };
    });
  const ours = new Set(rows.filter((r) => r.args.includes(`--user-data-dir=${profile}`)).map((r) => r.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows.filter((r) => !ours.has(r.pid) && ours.has(r.ppid))) {
      ours.add(r.pid);
      grew = true;
    }
  }
  const sum = (filter) => rows.filter((r) => ours.has(r.pid) && filter(r)).reduce((total, r) => total + r.mb, 0);
  return {
    total: sum(() => true),
    gpu: sum((r) => r.type === 'gpu-process'),
    renderers: sum((r) => r.type === 'renderer'),
    rest: sum((r) => r.type !== 'gpu-process' && r.type !== 'renderer'),
  };
}

function watch(page, errors) {
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('worker', (worker) => worker.on('console', (message) => {
    if (message.type() === 'error') errors.push(`worker console.error: ${message.text()}`);
  }));
}

/** The value after `name` on the command line (the benchmarks' flags), else `fallback`. */
export function argument(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Waits until the engine reports ready, and returns its backend. */
export async function ready(page) {
  // On WebGPU this includes the warm-up: about 100 s on SwiftShader.
  await page.waitForSelector('body[data-ready]', { timeout: 300_000 });
  return page.evaluate(() => document.body.dataset.ready);
}

/** Chooses the photo and the painting through the real file inputs. */
export async function choose(page, { content = fixture('photo.jpg'), styles = [fixture('painting.png')] } = {}) {
  await page.setInputFiles('#content-input', content);
  await page.setInputFiles('#style-input', styles);
}

/** Sets a tiny run: `size` px, `iterations` steps. */
export async function tiny(page, size = 32, iterations = 4) {
  await page.selectOption('#preset', 'custom');
  await page.fill('#size', String(size));
  await page.fill('#iterations', String(iterations));
}

/** Clicks Start and waits for the first progress report of the run. */
export async function startRun(page, timeout = 180_000) {
  await page.click('#start');
  await page.waitForFunction(() => /^Step \d+/.test(document.getElementById('progress-text').textContent), null, {
    timeout,
  });
}

/** Clicks Start and waits for the run to end; returns the progress text. */
export async function run(page, timeout = 300_000) {
  await page.click('#start');
  await page.waitForFunction(
    () => /^(Done|Cancelled)/.test(document.getElementById('progress-text').textContent) ||
      !document.getElementById('message').hidden,
    null,
    { timeout },
  );
  return page.textContent('#progress-text');
}

/** Mean absolute difference (0–255) between the output canvas and the photo at its size. */
export function differenceFromPhoto(page) {
  return page.evaluate(async () => {
    const output = document.getElementById('output');
    const { width, height } = output;
    const photo = document.getElementById('content-preview');
    const scratch = new OffscreenCanvas(width, height);
    const context = scratch.getContext('2d');
    context.drawImage(photo, 0, 0, width, height);
    const a = context.getImageData(0, 0, width, height).data;
    const b = output.getContext('2d').getImageData(0, 0, width, height).data;
    let sum = 0;
    for (let i = 0; i < a.length; i += 4) {
      sum += Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
    }
    return sum / ((a.length / 4) * 3);
  });
}

/**
 * A copy of the deployable site (dist/site, what the build writes for a static host) that a
 * test may change or rebuild; timestamps are kept, so that the server still sees each
 * compressed copy as up to date.
 */
export function copyOfSite() {
  const dir = mkdtempSync(join(tmpdir(), 'style-transfer-site-'));
  cpSync(join(root, 'dist', 'site'), dir, { recursive: true, preserveTimestamps: true });
  return dir;
}

/**
 * A copy of the site's sources in www/ (without the build's output in pkg/ and its tools),
 * for a test of the development server to edit; timestamps kept.
 */
export function copyOfSources() {
  const dir = mkdtempSync(join(tmpdir(), 'style-transfer-www-'));
  const www = join(root, 'www');
  const source = (path) => path !== join(www, 'pkg') && isServed(www, path);
  cpSync(www, dir, { recursive: true, preserveTimestamps: true, filter: source });
  return dir;
}

/**
 * Inside a describe block: Chromium (without WebGPU unless `webgpu`) on a fresh copy of the
 * built site, first changed by `prepare(dir)`; with `dev`, served by the development server
 * with the edits of a copy of www/. Its `browser`, `site` (and `sources`) are set once the
 * block starts.
 */
export function siteUnderTest(prepare = () => {}, { webgpu = false, dev = false } = {}) {
  const current = {};
  before(async () => {
    current.site = copyOfSite();
    if (dev) current.sources = copyOfSources();
    prepare(current.site);
    current.browser = await start({ webgpu, dev, sources: current.sources, dir: current.site });
  });
  after(async () => {
    await current.browser.close();
    for (const dir of [current.site, current.sources]) if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return current;
}

/**
 * Counts the page's Web Workers, from inside the page (a worker ended within milliseconds of
 * its start never reaches Playwright's events): `alive()` is how many run now, `started`
 * how many ever did, `settled()` waits until none runs. Call before the page loads.
 * `workers` lists the ones Playwright saw, for evaluating code in them.
 */
export async function countWorkers(page) {
  await page.addInitScript(() => {
    const counts = (window.__workerCounts = { started: 0, ended: 0 });
    const Native = window.Worker;
    window.Worker = class extends Native {
      constructor(...args) {
        super(...args);
        counts.started++;
        const end = () => {
          if (this.__ended) return;
          this.__ended = true;
          counts.ended++;
        };
        this.__end = end;
      }
      terminate() {
        this.__end();
        super.terminate();
      }
    };
  });
  const workers = [];
  page.on('worker', (worker) => workers.push(worker));
  const counts = () => page.evaluate(() => window.__workerCounts ?? { started: 0, ended: 0 });
  return {
    workers,
    started: async () => (await counts()).started,
    alive: async () => {
      const { started, ended } = await counts();
      return started - ended;
    },
    async settled(timeout = 10_000) {
      const end = Date.now() + timeout;
      let alive = await this.alive();
      while (alive > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        alive = await this.alive();
      }
      return alive;
    },
  };
}

/**
 * Makes `server` (a `start()`'s) answer 500 to each request for which `fails(path)` is true,
 * as a host in trouble would; the others as before.
 */
export function failRequests(server, fails) {
  const [respond] = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (request, response) => {
    if (fails(new URL(request.url, 'http://x').pathname)) response.writeHead(500).end('failed on purpose');
    else respond(request, response);
  });
}

/** Adds `blank.html` to `site`: a page of the site with nothing on it, for the API's tests. */
export const blank = (site) => writeFileSync(join(site, 'blank.html'), '<!doctype html><title>blank</title><link rel="icon" href="data:,">');

/**
 * The site's blank page (`blank`) with the API as `window.api`, a test photo and painting of
 * `photo` and `painting` pixels ([width, height]), and helpers: `settle(promise)` ({ok,
 * value} or {ok: false, name, message}) and `request(extra)` (a small stylization).
 * `workers` counts the page's own workers (`countWorkers`); `seen` lists every worker
 * Playwright sees, nested ones too (a thread pool's), as {url, closed}.
 */
export async function apiPage(browser, { url = browser.url, photo = [40, 30], painting = [32, 32] } = {}) {
  const page = await browser.context.newPage();
  const workers = await countWorkers(page);
  const seen = [];
  page.on('worker', (worker) => {
    const entry = { url: worker.url(), closed: false };
    worker.on('close', () => (entry.closed = true));
    seen.push(entry);
  });
  await page.goto(url + 'blank.html');
  await page.evaluate(async ([photo, painting]) => {
    window.api = await import('/stylizer.js');
    const picture = ([w, h], seed) => {
      const data = new Uint8ClampedArray(w * h * 4);
      for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * seed * 37 + (i >> 7) * 11) & 0xff;
      return new ImageData(data, w, h);
    };
    window.photo = picture(photo, 1);
    window.painting = picture(painting, 7);
    window.settle = (promise) =>
      promise.then((value) => ({ ok: true, value }), (e) => ({ ok: false, name: e.name, message: e.message }));
    window.request = (extra = {}) => ({
      content: window.photo,
      styles: [{ image: window.painting }],
      ...extra,
      options: { size: 32, iterations: 2, ...extra.options },
    });
  }, [photo, painting]);
  return { page, workers, seen };
}

/** Waits until every worker in `seen` (apiPage's) has closed; returns the URLs of those that have not. */
export async function allClosed(seen, timeout = 20_000) {
  const end = Date.now() + timeout;
  while (seen.some((w) => !w.closed) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return seen.filter((w) => !w.closed).map((w) => w.url);
}
