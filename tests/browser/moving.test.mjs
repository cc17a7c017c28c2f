// Moving pictures with the real engine on the CPU backend: paintFrame() and stylizeVideo() of
// the JS API, and the page's Live camera (Chromium's fake camera) and Video. Clips are made in
// the page with the browser's encoders (tests/browser/video/clips.js) and read back with
// mediabunny.

import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { copyOfSite, countWorkers, ready, siteUnderTest, start } from './harness.mjs';

/** The site with a blank page and the clip helpers (which import the site's mediabunny). */
function prepare(site) {
  writeFileSync(join(site, 'blank.html'), '<!doctype html><title>Moving pictures</title><link rel="icon" href="data:,">');
  copyFileSync(join(import.meta.dirname, 'video', 'clips.js'), join(site, 'test-clips.js'));
}

/** Keeps every camera stream `page` opens in `window.streams`, to see that each is released. */
const recordStreams = (page) =>
  page.addInitScript(() => {
    window.streams = [];
    const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (...args) => {
      const stream = await open(...args);
      window.streams.push(stream);
      return stream;
    };
  });

/** Loads the clip helpers into `page` as `window.clips`. */
const loadClips = (page) => page.evaluate(async () => (window.clips = await import('/test-clips.js')));

describe('paintFrame() and stylizeVideo() on the CPU backend', () => {
  const under = siteUnderTest(prepare);
  let page;
  before(async () => {
    page = await under.browser.context.newPage();
    await page.goto(under.browser.url + 'blank.html');
    await loadClips(page);
    await page.evaluate(async () => {
      window.api = await import('/stylizer.js');
      // The frames that reach the worker, and which of them bring paintings (a new style).
      window.sent = { frames: 0, styled: 0 };
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (message, ...rest) {
        if (message?.type === 'frame') {
          sent.frames++;
          if (message.styles) sent.styled++;
        }
        return post.call(this, message, ...rest);
      };
      const picture = (w, h, seed) => {
        const data = new Uint8ClampedArray(w * h * 4);
        for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * seed * 37 + (i >> 7) * 11) & 0xff;
        return new ImageData(data, w, h);
      };
      window.frame = picture(80, 60, 1);
      window.painting = picture(48, 48, 7);
      window.settle = (promise) => promise.then((value) => ({ ok: true, value }), (e) => ({ ok: false, name: e.name, message: e.message, ours: e instanceof api.AbortError || e instanceof api.VideoInputError }));
      window.stylizer = await api.createStylizer({ backend: 'cpu' });
    });
  });

  test('frames in, frames out: the style computed once per choice of paintings', async () => {
    const result = await page.evaluate(async () => {
      const styles = [{ image: painting, blend: 1 }];
      const out = [];
      for (let k = 0; k < 3; k++) {
        const painted = await stylizer.paintFrame(frame, styles, { options: { size: 64 } });
        out.push([painted.constructor.name, painted.width, painted.height, stylizer.frameTime > 0]);
      }
      const afterSame = { ...sent };
      // Another blend is another style; a bitmap in is a bitmap out.
      const bitmap = await stylizer.paintFrame(await createImageBitmap(frame), [{ image: painting, blend: 0.5 }], { options: { size: 64 } });
      out.push([bitmap.constructor.name, bitmap.width, bitmap.height]);
      await stylizer.paintFrame(frame, [{ image: painting, blend: 0.5 }], { options: { size: 64 }, restart: true });
      return { out, afterSame, after: { ...sent } };
    });
    assert.deepEqual(result.out.slice(0, 3), Array(3).fill(['ImageData', 64, 48, true]));
    assert.deepEqual(result.out[3], ['ImageBitmap', 64, 48]);
    assert.deepEqual(result.afterSame, { frames: 3, styled: 1 });
    assert.deepEqual(result.after, { frames: 5, styled: 3 });
  });

  test('a frame with a mask, or without paintings, is refused and the stylizer goes on', async () => {
    const result = await page.evaluate(async () => ({
      masked: await settle(stylizer.paintFrame(frame, [{ image: painting, mask: new ImageData(8, 6) }])),
      none: await settle(stylizer.paintFrame(frame, [])),
      options: await settle(stylizer.paintFrame(frame, [{ image: painting }], { options: { frameStability: 2 } })),
      after: await settle(stylizer.paintFrame(frame, [{ image: painting }], { options: { size: 32 } }).then((p) => p.width)),
    }));
    assert.equal(result.masked.name, 'OptionsError');
    assert.match(result.masked.message, /Masks do not apply to video frames/);
    assert.equal(result.none.name, 'ImageInputError');
    assert.equal(result.options.name, 'OptionsError');
    assert.match(result.options.message, /frameStability/);
    assert.deepEqual(result.after, { ok: true, value: 32 });
  });

  test('a video is stylized to a WebM of every frame, its sound copied', async () => {
    const result = await page.evaluate(async () => {
      const clip = await clips.makeClip({ frames: 24, width: 96, height: 72 });
      const input = await clips.inspect(clip);
      const progress = [];
      const blob = await stylizer.stylizeVideo(clip, { size: 64 }, {
        styles: [{ image: painting }],
        onProgress: (p) => progress.push([p.frame, p.frames, p.preview.width]),
      });
      const output = await clips.inspect(blob, { means: [0] });
      return { input, output, progress, type: blob.type };
    });
    const { input, output } = result;
    assert.equal(result.type, 'video/webm');
    assert.equal(output.frames, input.frames);
    assert.equal(output.frames, 24);
    assert.deepEqual([output.width, output.height], [64, 48]);
    assert.equal(output.codec, 'vp9');
    assert.deepEqual(output.timestamps, input.timestamps);
    assert.deepEqual([output.audio.codec, output.audio.packets], [input.audio.codec, input.audio.packets]);
    assert.equal(result.progress.length, 24);
    assert.deepEqual(result.progress.at(-1), [24, 24, 64]);
    // Painted, not the clip: its red ground is a painting's colours now.
    const [r, g, b] = output.means[0][0];
    assert.ok(Math.abs(r - 220) + Math.abs(g - 70) + Math.abs(b - 40) > 30, `the first frame is still the clip's red: ${[r, g, b]}`);
  });

  test('cancelling a video rejects with AbortError and the stylizer goes on; a non-video is refused', async () => {
    const result = await page.evaluate(async () => {
      const clip = await clips.makeClip({ frames: 40, width: 96, height: 72, audio: null });
      const controller = new AbortController();
      const cancelled = await settle(stylizer.stylizeVideo(clip, { size: 64 }, {
        styles: [{ image: painting }],
        signal: controller.signal,
        onProgress: (p) => p.frame === 5 && controller.abort(),
      }));
      const next = await settle(stylizer.paintFrame(frame, [{ image: painting }], { options: { size: 32 } }).then((p) => p.width));
      const noise = new Blob([crypto.getRandomValues(new Uint8Array(4096))]);
      const notVideo = await settle(stylizer.stylizeVideo(noise, { size: 64 }, { styles: [{ image: painting }] }));
      return { cancelled, next, notVideo };
    });
    assert.deepEqual([result.cancelled.name, result.cancelled.ours], ['AbortError', true]);
    assert.deepEqual(result.next, { ok: true, value: 32 });
    assert.deepEqual([result.notVideo.name, result.notVideo.ours], ['VideoInputError', true]);
    assert.match(result.notVideo.message, /not a video the browser can decode/);
  });
});

describe('the page: Live and Video', () => {
  let site;
  let browser;
  before(async () => {
    site = copyOfSite();
    prepare(site);
    browser = await start({ webgpu: false, camera: true, dir: site });
  });
  after(async () => {
    await browser.close();
    rmSync(site, { recursive: true, force: true });
  });

  /** The page, ready, with The Starry Night chosen and the camera's streams recorded. */
  async function livePage() {
    const page = await browser.page();
    await recordStreams(page);
    await page.reload();
    await ready(page);
    await page.click('[data-painting="starry-night"]');
    await page.waitForSelector('#live:not([disabled])');
    // The size menu shows with the live view; set before it starts.
    await page.$eval('#live-size', (select) => (select.value = '128'));
    return page;
  }

  const liveTracks = (page) => page.evaluate(() => streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length);
  const frames = (page) => page.evaluate(() => Number(document.getElementById('live-canvas').dataset.frames));

  test('Live paints the camera frame after frame, shows the rate, and Stop or a hidden tab releases the camera', async () => {
    const page = await livePage();
    await page.click('#live');
    await page.waitForFunction(() => Number(document.getElementById('live-canvas').dataset.frames) >= 3, null, { timeout: 60_000 });
    assert.match(await page.textContent('#live-stats'), /^[\d.]+ frames a second · \d+ ms a frame in the engine · 128×96 px$/);
    assert.equal(await liveTracks(page), 1);
    assert.equal(await page.isDisabled('#start'), true, 'Start waits while Live runs');
    await page.click('#live-stop');
    assert.equal(await liveTracks(page), 0);
    assert.equal(await page.isVisible('#live-view'), false);
    const stopped = await frames(page);
    await page.waitForTimeout(1500);
    assert.ok((await frames(page)) <= stopped + 1, 'frames went on after Stop');
    // Leaving the tab stops it too.
    await page.click('#live');
    await page.waitForFunction(() => Number(document.getElementById('live-canvas').dataset.frames) >= 5, null, { timeout: 60_000 });
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    assert.equal(await liveTracks(page), 0);
    assert.equal(await page.isVisible('#live-view'), false);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('Capture keeps the frame as the photo and paints it as a photo is', async () => {
    const page = await livePage();
    await page.selectOption('#preset', 'quick');
    await page.click('#live');
    await page.waitForFunction(() => Number(document.getElementById('live-canvas').dataset.frames) >= 1, null, { timeout: 60_000 });
    await page.click('#live-capture');
    assert.equal(await liveTracks(page), 0);
    await page.waitForFunction(() => /^Done/.test(document.getElementById('progress-text').textContent), null, { timeout: 120_000 });
    const photo = await page.evaluate(() => [document.getElementById('content-preview').width, document.getElementById('content-preview').height]);
    assert.deepEqual(photo, [640, 480], 'the fake camera’s frame is the photo');
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('a video dropped in is painted, with progress, and offered for download', async () => {
    const page = await livePage();
    await loadClips(page);
    // Refined frames are estimated before a video is chosen.
    await page.fill('#video-steps', '2');
    await page.waitForFunction(() => /^With 2 steps: about \d+ (min )?\d* ?s a frame on this device/.test(document.getElementById('video-estimate').textContent));
    await page.fill('#video-steps', '0');
    await page.waitForFunction(() => document.getElementById('video-estimate').textContent === '');
    await page.selectOption('#video-size', '256');
    const done = await page.evaluate(async () => {
      const clip = await clips.makeClip({ frames: 12, width: 96, height: 72 });
      const input = document.getElementById('video-input');
      const files = new DataTransfer();
      files.items.add(new File([clip], 'clip.webm', { type: 'video/webm' }));
      input.files = files.files;
      input.dispatchEvent(new Event('change'));
      const link = document.getElementById('video-download');
      await new Promise((resolve) => new MutationObserver(() => !link.hidden && resolve()).observe(link, { attributes: true }));
      const output = await clips.inspect(blobOf(link.href));
      return { name: link.download, frames: output.frames, size: [output.width, output.height], status: document.getElementById('video-status').textContent };
    });
    assert.equal(done.name, 'clip-stylized.webm');
    assert.equal(done.frames, 12);
    assert.deepEqual(done.size, [256, 192]);
    assert.match(done.status, /^Done: [\d.]+ MB/);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

describe('the widget, Live, on another origin', () => {
  let site;
  let browser;
  let host;
  before(async () => {
    site = copyOfSite();
    browser = await start({ webgpu: false, camera: true, dir: site });
    const widget = new URL('widget.js', browser.url).href;
    const html = `<!doctype html><title>host</title><link rel="icon" href="data:,">
      <script type="module" src="${widget}"></script>
      <style-transfer live style-src="starry-night" size="64" backend="cpu"></style-transfer>`;
    const server = createServer((request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(html));
    host = await new Promise((done) => server.listen(0, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${server.address().port}/` })));
  });
  after(async () => {
    await browser.close();
    host.server.close();
    rmSync(site, { recursive: true, force: true });
  });

  test('Live paints the camera in the widget; removing the element releases the camera and the worker', async () => {
    const page = await browser.context.newPage();
    await recordStreams(page);
    await page.addInitScript(() => (window.shown = 0));
    const workers = await countWorkers(page);
    await page.goto(host.url);
    await page.evaluate(() => document.querySelector('style-transfer').addEventListener('frame', () => window.shown++));
    await page.waitForSelector('style-transfer .live:not([disabled])', { timeout: 120_000 });
    await page.click('style-transfer .live');
    await page.waitForFunction(() => window.shown >= 3, null, { timeout: 60_000 });
    assert.equal(await page.textContent('style-transfer .live'), 'Stop');
    assert.equal(await page.textContent('style-transfer .status'), 'Live: painting the camera.');
    assert.match(await page.textContent('style-transfer .rate'), /^[\d.]+ frames a second$/);
    // A run from code is refused while Live goes on.
    const busy = await page.evaluate(() => document.querySelector('style-transfer').run().catch((e) => e.name));
    assert.equal(busy, 'BusyError');
    const canvas = await page.evaluate(() => {
      const c = document.querySelector('style-transfer').shadowRoot.querySelector('canvas');
      return [c.width, c.height];
    });
    assert.deepEqual(canvas, [64, 48]);
    await page.evaluate(() => document.querySelector('style-transfer').remove());
    await page.waitForFunction(() => streams.flatMap((s) => s.getTracks()).every((t) => t.readyState === 'ended'));
    assert.equal(await workers.settled(), 0, 'the engine\'s worker outlived the element');
    await page.waitForTimeout(500);
    const after = await page.evaluate(() => window.shown);
    await page.waitForTimeout(1000);
    assert.equal(await page.evaluate(() => window.shown), after, 'frames went on after the element was removed');
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

describe('the page with the camera refused', () => {
  let browser;
  before(async () => (browser = await start({ webgpu: false, camera: 'denied' })));
  after(() => browser.close());

  test('Live says why, as Take a photo does, and the page goes on', async () => {
    const page = await browser.page();
    await ready(page);
    await page.click('[data-painting="starry-night"]');
    await page.waitForSelector('#live:not([disabled])');
    await page.click('#live');
    await page.waitForFunction(() => !document.getElementById('message').hidden);
    assert.match(await page.textContent('#message'), /Camera access was denied/);
    assert.equal(await page.isVisible('#live-view'), false);
    assert.equal(await page.isDisabled('#live'), false);
    await page.close();
  });
});
