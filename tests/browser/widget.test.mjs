// The widget embedded in a page of another origin.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { countWorkers, fixture, start } from './harness.mjs';

/**
 * The strict Content-Security-Policy of a host page on its own origin that embeds the widget
 * from `widget` (an origin): what README's "The widget" says such a page must allow, and
 * nothing more; its own inline script and style carry `nonce`.
 */
function strictHostPolicy(widget, nonce) {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${widget} 'wasm-unsafe-eval'`,
    `style-src 'nonce-${nonce}'`,
    `connect-src ${widget}`,
    // The engine's worker is a blob: module; the modules it imports are fetched as a worker's.
    `worker-src blob: ${widget}`,
    'img-src blob: data:',
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves the host pages on their own port (so their own origin), pointing at the widget: `/`
 * with two widgets, `/empty` with only the script, for tests that add elements themselves,
 * `/isolated` the two widgets with the headers that isolate the host page, `/strict` the
 * same with a strict Content-Security-Policy of its own, `/refused` with one that forgets
 * the widget in `worker-src`.
 */
function hostServer(widgetUrl) {
  const html = readFileSync(join(import.meta.dirname, 'host', 'index.html'), 'utf8').replaceAll('WIDGET_URL', widgetUrl);
  const nonce = 'a1b2c3d4';
  const pages = {
    '/': html,
    '/empty': `<!doctype html><title>host</title><link rel="icon" href="data:,"><script type="module" src="${widgetUrl}"></script>`,
    // `/isolated`: the two widgets on a host page that is cross-origin isolated itself.
    '/isolated': html,
    '/strict': html.replaceAll('<style>', `<style nonce="${nonce}">`).replaceAll('<script>', `<script nonce="${nonce}">`),
  };
  // `/refused`: the same, with a policy that forgets the widget's origin in worker-src.
  pages['/refused'] = pages['/strict'];
  const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  const headers = {
    '/isolated': isolation,
    '/strict': { ...isolation, 'content-security-policy': strictHostPolicy(new URL(widgetUrl).origin, nonce) },
    '/refused': { 'content-security-policy': strictHostPolicy(new URL(widgetUrl).origin, nonce).replace(/worker-src [^;]*/, 'worker-src blob:') },
  };
  const server = createServer((request, response) => {
    const page = pages[request.url];
    response.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', ...headers[request.url] });
    response.end(page ?? 'not found');
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${server.address().port}/` })));
}

describe('widget on another origin', () => {
  let browser;
  let host;
  before(async () => {
    browser = await start({ webgpu: false });
    host = await hostServer(new URL('widget.js', browser.url).href);
  });
  after(async () => {
    await browser.close();
    host.server.close();
  });

  for (const [path, what] of [['isolated', 'a cross-origin-isolated host page'], ['strict', 'an isolated host page with a strict Content-Security-Policy']]) {
    test(`on ${what} the widgets compute on the thread pool`, () => onThePool(path));
  }

  async function onThePool(path) {
    const page = await browser.context.newPage();
    const workers = [];
    page.on('worker', (worker) => workers.push(worker));
    await page.goto(host.url + path);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    await page.waitForFunction(() => window.events.filter((e) => e.type === 'load').length === 2, null, { timeout: 120_000 });
    const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency, 8));
    const loads = await page.evaluate(() => window.events.filter((e) => e.type === 'load').map((e) => e.threads));
    assert.equal(loads.length, 2);
    for (const [threads, why] of loads) assert.deepEqual([threads, why ?? undefined], [cores, undefined]);
    // Each widget's engine worker, and its pool's.
    assert.equal(workers.length, cores > 1 ? 2 * (1 + cores) : 2);
    await page.setInputFiles('#one input.content', fixture('photo.jpg'));
    await page.setInputFiles('#one input.style', fixture('painting.png'));
    await page.click('#one button.run');
    await page.waitForFunction(() => window.events.some((e) => e.type === 'done'), null, { timeout: 120_000 });
    // A violation of the host's policy, on the page or in the engine's workers, is an error.
    assert.deepEqual(browser.errors, []);
    await page.close();
  }

  test("a host page whose policy refuses the engine's worker gets an error event that says so", async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(host.url + 'refused');
      await page.waitForFunction(() => window.events.filter((e) => e.type === 'error').length >= 2, null, { timeout: 60_000 });
      const events = await page.evaluate(() => window.events);
      assert.equal(events.length, 2);
      for (const { message } of events) assert.match(message, /^The engine worker could not be loaded: .*Content-Security-Policy/);
      // The browser's notes of the refusal, and nothing else.
      assert.deepEqual(browser.errors.filter((e) => !/Content Security Policy|CSP violation/.test(e)), []);
    } finally {
      await page.close();
      // The tests after this one start clean.
      browser.errors.length = 0;
    }
  });

  test('two widgets run, keep their looks, and free their worker when removed', async () => {
    const page = await browser.context.newPage();
    const workers = [];
    page.on('worker', (worker) => workers.push(worker));
    await page.goto(host.url);
    assert.notEqual(new URL(host.url).origin, new URL(browser.url).origin);
    await page.waitForFunction(() => window.events.filter((e) => e.type === 'load').length === 2, null, { timeout: 120_000 });
    assert.equal(workers.length, 2);
    // This host page sends no COOP/COEP headers: the CPU engines run on one thread each, and
    // say why (no pool workers above).
    const loads = await page.evaluate(() => window.events.filter((e) => e.type === 'load').map((e) => e.threads));
    for (const [threads, why] of loads) {
      assert.equal(threads, 1);
      if (await page.evaluate(() => navigator.hardwareConcurrency > 1)) assert.match(why, /not cross-origin isolated/);
    }

    for (const id of ['one', 'two']) await page.setInputFiles(`#${id} input.content`, fixture('photo.jpg'));
    // `two` takes its painting from style-src="udnie", a preset of the gallery.
    await page.setInputFiles('#one input.style', fixture('painting.png'));
    await page.click('#one button.run');
    await page.click('#two button.run');
    await page.waitForFunction(() => window.events.filter((e) => e.type === 'done').length === 2, null, { timeout: 120_000 });
    const done = await page.evaluate(() => window.events.filter((e) => e.type !== 'load'));
    assert.deepEqual(done.map((e) => [e.id, e.type, e.size]).sort(), [['one', 'done', [32, 21]], ['two', 'done', [32, 21]]]);
    assert.ok(browser.served.includes('/gallery/udnie.jpg'), 'the preset painting was not loaded');

    // The host's CSS stays out of the widget, and the widget's stays in.
    const looks = await page.evaluate(() => {
      const style = (element) => getComputedStyle(element);
      const inner = document.getElementById('one').shadowRoot;
      return {
        widgetButton: [style(inner.querySelector('button')).backgroundColor, style(inner.querySelector('button')).fontSize],
        widgetCanvas: style(inner.querySelector('canvas')).display,
        hostButton: style(document.getElementById('host-button')).backgroundColor,
        hostLink: style(document.getElementById('host-link')).color,
      };
    });
    assert.deepEqual(looks, {
      widgetButton: ['rgb(194, 65, 12)', '14px'],
      widgetCanvas: 'block',
      hostButton: 'rgb(0, 128, 0)',
      hostLink: 'rgb(255, 0, 0)',
    });

    // Removing an element ends its worker.
    const closed = new Promise((resolve) => workers[0].once('close', resolve));
    await page.evaluate(() => document.getElementById('one').remove());
    await closed;
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  /** The empty host page with the widget's script loaded and element helpers. */
  async function emptyHost() {
    const page = await browser.context.newPage();
    const workers = await countWorkers(page);
    await page.goto(host.url + 'empty');
    await page.waitForFunction(() => customElements.get('style-transfer'));
    await page.evaluate(() => {
      window.events = [];
      window.widget = (id) => {
        const element = document.createElement('style-transfer');
        Object.assign(element, { id });
        for (const [name, value] of Object.entries({ size: '32', iterations: '2', backend: 'cpu' })) element.setAttribute(name, value);
        for (const type of ['load', 'done', 'error']) {
          element.addEventListener(type, (e) => window.events.push({ id, type, message: e.detail?.message ?? null }));
        }
        return element;
      };
    });
    return { page, workers };
  }

  test('moved in the document while loading: one engine, which then runs', async () => {
    const { page, workers } = await emptyHost();
    await page.evaluate(() => {
      const element = widget('moved');
      document.body.append(element);
      const box = document.createElement('section');
      document.body.append(box);
      box.append(element); // a move: disconnected and connected in one task
    });
    await page.waitForFunction(() => events.some((e) => e.type === 'load'), null, { timeout: 120_000 });
    await page.setInputFiles('#moved input.content', fixture('photo.jpg'));
    await page.setInputFiles('#moved input.style', fixture('painting.png'));
    await page.click('#moved button.run');
    await page.waitForFunction(() => events.some((e) => e.type === 'done'), null, { timeout: 120_000 });
    assert.deepEqual([await workers.started(), await workers.alive()], [1, 1]);
    assert.deepEqual(await page.evaluate(() => events.map((e) => e.type)), ['load', 'done']);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('removed while loading: no worker left, no event', async () => {
    const { page, workers } = await emptyHost();
    const started = page.waitForEvent('worker', { timeout: 120_000 });
    await page.evaluate(() => document.body.append(widget('removed')));
    await started; // the engine is starting
    await page.evaluate(() => document.getElementById('removed').remove());
    assert.equal(await workers.settled(), 0);
    await page.waitForTimeout(500);
    assert.deepEqual(await page.evaluate(() => events), []);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('run() twice: the second is refused, cancel() stops the first, and a new run completes', async () => {
    const { page, workers } = await emptyHost();
    await page.evaluate(() => document.body.append(widget('twice')));
    await page.waitForFunction(() => events.some((e) => e.type === 'load'), null, { timeout: 120_000 });
    await page.setInputFiles('#twice input.content', fixture('photo.jpg'));
    await page.setInputFiles('#twice input.style', fixture('painting.png'));
    const results = await page.evaluate(async () => {
      const element = document.getElementById('twice');
      const settle = (p) => p.then((v) => ['ok', v.width], (e) => [e.name]);
      element.options = { iterations: 400 };
      const first = settle(element.run());
      const second = await settle(element.run());
      await new Promise((resolve) => element.addEventListener('progress', resolve, { once: true }));
      element.cancel();
      const cancelled = await first;
      const status = element.shadowRoot.querySelector('.status').textContent;
      element.options = {};
      const again = await settle(element.run());
      return { second, cancelled, status, again };
    });
    assert.deepEqual(results, { second: ['BusyError'], cancelled: ['AbortError'], status: 'Cancelled.', again: ['ok', 32] });
    // The cancelled run's worker ended; the next run started one.
    assert.deepEqual([await workers.started(), await workers.alive()], [2, 1]);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test("size and steps left out are the engine's defaults, as in the page and the JS API", async () => {
    const { page } = await emptyHost();
    const size = await page.evaluate(async () => {
      const element = widget('defaults');
      element.removeAttribute('size');
      // Steps given (0: the Quick picture, to be quick), the size left out.
      element.setAttribute('iterations', '0');
      element.setAttribute('style-src', 'udnie');
      const loaded = new Promise((resolve) => element.addEventListener('load', resolve, { once: true }));
      document.body.append(element);
      await loaded;
      element.content = new ImageData(new Uint8ClampedArray(40 * 30 * 4).fill(200), 40, 30);
      const image = await element.run();
      element.remove();
      return [image.width, image.height];
    });
    // The engine's default size (the page's Balanced preset, its test checks the menu).
    assert.deepEqual(size, [384, 288]);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('styleMask puts the painting on the left and keeps the photo on the right', async () => {
    const { page } = await emptyHost();
    const { kept, painted } = await page.evaluate(async () => {
      const element = widget('masked');
      Object.entries({ iterations: '0', size: '40', 'style-src': 'udnie' }).forEach(([k, v]) => element.setAttribute(k, v));
      const loaded = new Promise((resolve) => element.addEventListener('load', resolve, { once: true }));
      document.body.append(element);
      await loaded;
      const photo = new ImageData(new Uint8ClampedArray(40 * 30 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 13) % 200)), 40, 30);
      element.content = photo;
      element.styleMask = { width: 40, height: 30, data: new Uint8Array(40 * 30).map((_, i) => (i % 40 < 20 ? 255 : 0)) };
      const image = await element.run();
      element.remove();
      const difference = (from, to) => {
        let [sum, n] = [0, 0];
        for (let y = 0; y < 30; y++) {
          for (let x = from; x < to; x++, n += 3) {
            for (let c = 0; c < 3; c++) sum += Math.abs(image.data[4 * (y * 40 + x) + c] - photo.data[4 * (y * 40 + x) + c]);
          }
        }
        return sum / n;
      };
      return { painted: difference(0, 17), kept: difference(23, 40) };
    });
    assert.ok(painted > 10 && kept < 1, `painted ${painted}, kept ${kept} levels from the photo`);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('the look attribute takes the engine\'s looks; an unknown one is an error naming them, and the widget runs on', async () => {
    const { page } = await emptyHost();
    const results = await page.evaluate(async () => {
      const element = widget('look');
      Object.entries({ iterations: '1', 'style-src': 'udnie', look: 'vivid' }).forEach(([k, v]) => element.setAttribute(k, v));
      const loaded = new Promise((resolve) => element.addEventListener('load', resolve, { once: true }));
      document.body.append(element);
      await loaded;
      element.content = new ImageData(new Uint8ClampedArray(40 * 30 * 4).fill(200), 40, 30);
      const settle = (p) => p.then((v) => ['ok', v.width], (e) => [e.name, e.message]);
      const unknown = await settle(element.run());
      element.setAttribute('look', 'faithful');
      const faithful = await settle(element.run());
      element.remove();
      return { unknown, faithful };
    });
    assert.deepEqual(results.unknown, ['Error', 'look="vivid": not one of painterly, faithful.']);
    assert.deepEqual(results.faithful, ['ok', 32]);
    await page.close();
  });

  test("the model's older builds are removed from the host's cache", async () => {
    const page = await browser.context.newPage();
    await page.goto(host.url + 'empty');
    const weights = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'www', 'pkg', 'build.json'), 'utf8')).weights;
    const current = new URL(`pkg/${weights.vgg.url}`, browser.url).href;
    const fast = new URL(`pkg/${weights.fast.url}`, browser.url).href;
    const older = current.replace(/\.[0-9a-f]{16}\./, '.0123456789abcdef.');
    const unrelated = new URL('pkg/other.0123456789abcdef.safetensors', browser.url).href;
    assert.notEqual(older, current);
    await page.evaluate(async (urls) => {
      const cache = await caches.open('style-transfer-weights-v1');
      for (const url of urls) await cache.put(url, new Response('old'));
    }, [older, unrelated]);
    await page.evaluate(() => {
      window.events = [];
      const element = document.createElement('style-transfer');
      element.setAttribute('backend', 'cpu');
      element.addEventListener('load', () => events.push('load'));
      document.body.append(element);
    });
    await page.waitForFunction(() => events.includes('load'), null, { timeout: 120_000 });
    const kept = await page.evaluate(async () =>
      (await (await caches.open('style-transfer-weights-v1')).keys()).map((r) => r.url).sort());
    assert.deepEqual(kept, [current, fast, unrelated].sort());
    await page.close();
  });
});
