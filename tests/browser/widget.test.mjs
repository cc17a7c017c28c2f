// The widget embedded in a page of another origin.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { fixture, start } from './harness.mjs';

/** Serves the host page on its own port (so its own origin), pointing at the widget. */
function hostServer(widgetUrl) {
  const html = readFileSync(join(import.meta.dirname, 'host', 'index.html'), 'utf8').replaceAll('WIDGET_URL', widgetUrl);
  const server = createServer((request, response) => {
    response.writeHead(request.url === '/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(request.url === '/' ? html : 'not found');
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

  test('two widgets run, keep their looks, and free their worker when removed', async () => {
    const page = await browser.context.newPage();
    const workers = [];
    page.on('worker', (worker) => workers.push(worker));
    await page.goto(host.url);
    assert.notEqual(new URL(host.url).origin, new URL(browser.url).origin);
    await page.waitForFunction(() => window.events.filter((e) => e.type === 'load').length === 2, null, { timeout: 120_000 });
    assert.equal(workers.length, 2);

    for (const id of ['one', 'two']) {
      await page.setInputFiles(`#${id} input.content`, fixture('photo.jpg'));
      await page.setInputFiles(`#${id} input.style`, fixture('painting.png'));
    }
    await page.click('#one button.run');
    await page.click('#two button.run');
    await page.waitForFunction(() => window.events.filter((e) => e.type === 'done').length === 2, null, { timeout: 120_000 });
    const done = await page.evaluate(() => window.events.filter((e) => e.type !== 'load'));
    assert.deepEqual(done.map((e) => [e.id, e.type, e.size]).sort(), [['one', 'done', [32, 21]], ['two', 'done', [32, 21]]]);

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
});
