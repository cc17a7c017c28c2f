// Paintings from strangers: the widget's `style-src` pointing at a picture of another site
// that does not allow it (no CORS), an SVG, redirects, a 404, a picture too large to decode
// and a file too large to download. Each is an `error` event and a rejected run() saying
// what is wrong, nothing escapes uncaught (no tainted canvas), and the widget runs after. And
// the site's own page, which another site may not frame.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { fixtureBytes, start } from './harness.mjs';

/** A PNG file's first bytes, declaring `width` × `height` (nothing decodable after them). */
function pngHeader(width, height) {
  const bytes = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(bytes);
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  return bytes;
}

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="red"/></svg>';

/**
 * One server, two origins: the host page on `localhost`, and a stranger's site on
 * `127.0.0.1`, which sends no CORS headers. The widget itself comes from a third origin.
 */
function hostAndStranger(widgetUrl) {
  const painting = fixtureBytes('painting.png');
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url, 'http://x');
    const send = (status, type, body, headers = {}) => response.writeHead(status, { 'content-type': type, ...headers }).end(body);
    const stranger = `http://127.0.0.1:${server.address().port}`;
    const routes = {
      '/': () => send(200, 'text/html', `<!doctype html><title>host</title><link rel="icon" href="data:,"><script type="module" src="${widgetUrl}"></script>`),
      // The site's own page in a frame of this other site.
      '/framing': () => send(200, 'text/html', `<!doctype html><title>framing</title><link rel="icon" href="data:,"><iframe src="${new URL('./', widgetUrl)}"></iframe>`),
      '/painting.png': () => send(200, 'image/png', painting),
      '/drawing.svg': () => send(200, 'image/svg+xml', SVG),
      '/drawing-named-png.png': () => send(200, 'image/png', SVG),
      '/moved-away': () => send(302, 'text/plain', '', { location: `${stranger}/painting.png` }),
      '/moved-here': () => send(302, 'text/plain', '', { location: '/painting.png' }),
      '/huge.png': () => send(200, 'image/png', pngHeader(100_000, 100_000)),
      // Declares 2 GB, sends a little, and would go on: the widget must not wait for it.
      '/endless.png': () => {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(2 ** 31) });
        response.write(painting);
      },
      // Declares no length and sends without end (well past the limit if read).
      '/endless-undeclared.png': () => {
        response.writeHead(200, { 'content-type': 'image/png' });
        const block = Buffer.alloc(1 << 20, 7);
        const more = () => {
          while (!response.destroyed && response.write(block));
          if (!response.destroyed) response.once('drain', more);
        };
        response.on('close', () => response.removeAllListeners('drain'));
        more();
      },
    };
    (routes[pathname] ?? (() => send(404, 'text/plain', 'not found')))();
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      done({ server, host: `http://localhost:${port}/`, stranger: `http://127.0.0.1:${port}/` });
    }),
  );
}

describe("paintings from other sites in the widget's style-src", () => {
  let browser;
  let sites;
  before(async () => {
    browser = await start({ webgpu: false });
    sites = await hostAndStranger(new URL('widget.js', browser.url).href);
  });
  after(async () => {
    await browser.close();
    sites.server.closeAllConnections();
    sites.server.close();
  });

  test('each bad source is an error event saying why, and the widget runs after them', async () => {
    try {
      const page = await browser.context.newPage();
      await page.goto(sites.host);
      await page.waitForFunction(() => customElements.get('style-transfer'));
      const cases = {
        [`${sites.stranger}painting.png`]: /^Could not load the painting .*: the server did not answer, or does not let other sites use its pictures \(CORS\), or this page's Content-Security-Policy refuses it\.$/,
        'drawing.svg': /^The painting file is an SVG drawing; save it as PNG or JPEG first\.$/,
        'drawing-named-png.png': /^The painting file is not an image this browser can read/,
        'moved-away': /does not let other sites use its pictures \(CORS\)/,
        'missing.png': /^Could not load the painting missing\.png \(404\)\.$/,
        'huge.png': /^The painting image is too large \(100000×100000\); the limit is 100 megapixels\.$/,
        'endless.png': /^The painting endless\.png is too large \(2147 MB or more\); the limit is 256 MB\.$/,
        'endless-undeclared.png': /^The painting endless-undeclared\.png is too large \(\d+ MB or more\); the limit is 256 MB\.$/,
      };
      const outcomes = await page.evaluate(async (sources) => {
        const element = document.createElement('style-transfer');
        for (const [name, value] of Object.entries({ size: '32', iterations: '1', backend: 'cpu' })) element.setAttribute(name, value);
        const events = [];
        element.addEventListener('error', (e) => events.push(e.detail.message));
        const loaded = new Promise((resolve) => element.addEventListener('load', resolve, { once: true }));
        document.body.append(element);
        await loaded;
        element.content = new ImageData(new Uint8ClampedArray(40 * 30 * 4).fill(200), 40, 30);
        const outcomes = [];
        for (const source of [...sources, 'moved-here', 'painting.png']) {
          element.setAttribute('style-src', source);
          const before = events.length;
          const run = await element.run().then((image) => ['done', image.width], (e) => [e.name, e.message]);
          outcomes.push({ source, run, event: events.slice(before) });
        }
        return outcomes;
      }, Object.keys(cases));
      for (const { source, run, event } of outcomes) {
        if (source in cases) {
          assert.equal(run[0], 'ImageInputError', `${source}: ${run}`);
          assert.match(run[1], cases[source], source);
          assert.deepEqual(event, [run[1]], `${source}: one error event, with the run's message`);
        } else {
          // A redirect within the host's own site is followed; the widget still runs.
          assert.deepEqual([source, run, event], [source, ['done', 32], []]);
        }
      }
      // The browser's own notes of the refused requests are console errors; nothing else is.
      const unexpected = browser.errors.filter((e) => !/blocked by CORS policy|Failed to load resource|net::ERR_FAILED/.test(e));
      assert.deepEqual(unexpected, []);
      await page.close();
    } finally {
      // The browser's notes of the refusals stay with this test.
      browser.errors.length = 0;
    }
  });

  test("another site may embed the widget, but not frame the site's page", async () => {
    const page = await browser.context.newPage();
    await page.goto(sites.host + 'framing');
    // The browser refuses the frame (frame-ancestors 'none') and says so in the console.
    const refused = () => browser.errors.some((e) => /Framing .* violates .*frame-ancestors 'none'/.test(e));
    for (let end = Date.now() + 10_000; !refused() && Date.now() < end; ) await page.waitForTimeout(100);
    assert.ok(refused(), browser.errors.join('\n') || 'no refusal');
    assert.equal(await page.frames()[1]?.evaluate(() => document.body?.dataset.ready ?? 'none').catch(() => 'none'), 'none');
    await page.close();
  });
});
