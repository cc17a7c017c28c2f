// The upload page in Chromium: real file inputs, tiny runs on WebGPU (SwiftShader) and on the
// CPU fallback, cancelling, bad inputs, and no request that could carry the user's images.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';

import { writeShellManifest } from '../../www/shell.mjs';
import { choose, copyOfSite, differenceFromPhoto, fixtureBytes, ready, run, start, startRun, tiny } from './harness.mjs';

/**
 * The test's hook, put at the top of the worker in this test's copy of the site (the shipped
 * worker has none): keeps the GPU device the engine gets as `self.testGpuDevice`, so that a
 * test can destroy it.
 */
const GPU_DEVICE_HOOK = `if (navigator.gpu) {
  const requestAdapter = navigator.gpu.requestAdapter.bind(navigator.gpu);
  navigator.gpu.requestAdapter = async (...args) => {
    const adapter = await requestAdapter(...args);
    const requestDevice = adapter?.requestDevice.bind(adapter);
    if (adapter) adapter.requestDevice = async (...options) => (self.testGpuDevice = await requestDevice(...options));
    return adapter;
  };
}
`;

describe('on WebGPU', () => {
  // One page for these tests, in this order: every new WebGPU engine compiles its pipelines
  // again (about 45 s on SwiftShader, 100 s with the page's warm-up), so the first run warms
  // the engine once and the later tests restart it only where their claim is the restart.
  let browser;
  let page;
  let site;
  before(async () => {
    site = copyOfSite();
    const worker = join(site, 'worker.js');
    writeFileSync(worker, GPU_DEVICE_HOOK + readFileSync(worker, 'utf8'));
    writeShellManifest(site); // the service worker caches the changed worker by its hash
    browser = await start({ webgpu: true, dir: site });
    page = await browser.page();
  });
  after(async () => {
    await browser.close();
    rmSync(site, { recursive: true, force: true });
  });

  test('a photo and a painting give a stylized picture, redrawn as it forms', async () => {
    assert.equal(await ready(page), 'webgpu');
    const loaded = browser.requests.length;
    await choose(page);
    await tiny(page, 32, 6);
    // The main thread stays free while the worker computes. A step of the engine on this
    // machine takes seconds (SwiftShader), so work done on the main thread would show as
    // tasks of seconds; a task of 100–150 ms (a paint or a GC on a loaded machine) has
    // happened without any change, so the bound is 500 ms.
    await page.evaluate(() => {
      window.longTasks = [];
      new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration)))
        .observe({ type: 'longtask' });
    });
    const text = await run(page);
    const longTasks = await page.evaluate(() => window.longTasks);
    assert.ok(longTasks.every((ms) => ms <= 500), `long tasks during the run (ms): ${longTasks}`);
    assert.match(text, /^Done: 6 steps on the GPU \(WebGPU\)/);
    const frames = Number(await page.getAttribute('#output', 'data-frames'));
    assert.ok(frames >= 3, `the canvas was drawn ${frames} times`);
    assert.deepEqual(await page.evaluate(() => [output.width, output.height]), [32, 21]);
    const difference = await differenceFromPhoto(page);
    assert.ok(difference > 4, `the result barely differs from the photo (${difference})`);
    // The link appears once the PNG is encoded (toBlob), a moment after "Done".
    await page.waitForSelector('#download:not([hidden])', { timeout: 10_000 });
    // Nothing but the app's own static files was requested, and nothing after the run began.
    const origin = new URL(browser.url).origin;
    for (const request of browser.requests) {
      assert.equal(new URL(request.url()).origin, origin, `request to ${request.url()}`);
      assert.equal(request.method(), 'GET', `${request.method()} ${request.url()}`);
    }
    const late = browser.requests.slice(loaded).map((r) => r.url());
    assert.deepEqual(late, [], 'requests after the page was ready');
    assert.deepEqual(browser.errors, []);
  });

  test('cancelling stops the run and the next run completes', async () => {
    await tiny(page, 32, 400);
    await startRun(page);
    await page.click('#cancel');
    await page.waitForFunction(() => document.getElementById('progress-text').textContent.startsWith('Cancelled'));
    // The first picture was shown, and every picture shown is the best so far: it stays,
    // and can be downloaded.
    assert.equal(await page.textContent('#progress-text'), 'Cancelled: the picture shown is the best so far.');
    await page.waitForSelector('#download:not([hidden])');
    assert.equal(await page.isEnabled('#start'), true);
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    // The engine restarted for that run, and the status line says it is ready again.
    assert.match(await page.textContent('#engine-status'), /^Ready: running on your GPU/);
    assert.deepEqual(browser.errors, []);
  });

  test('losing the GPU device fails that run with a message, and the next run works', async () => {
    await tiny(page, 32, 400);
    // The engine the last test restarted: the page's one live worker.
    const [worker] = page.workers();
    await startRun(page);
    await worker.evaluate(() => self.testGpuDevice.destroy());
    await page.waitForSelector('#message:not([hidden])', { timeout: 60_000 });
    assert.match(await page.textContent('#message'), /GPU device was lost|compute device failed/);
    assert.equal(await page.isEnabled('#start'), true);
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps on the GPU/);
    // WebGPU reports the work refused by the destroyed device; nothing else may fail.
    const unexpected = browser.errors.filter((e) => !/destroyed|device (was )?lost/i.test(e));
    assert.deepEqual(unexpected, []);
    browser.errors.length = 0;
  });
});

describe('without WebGPU', () => {
  let browser;
  before(async () => (browser = await start({ webgpu: false })));
  after(() => browser.close());

  // On the CPU fallback: reading files is the page's work (images.js), the same whatever
  // runs the engine, and the run that shows the page still works is cheaper there.
  test('bad files get a clear message and the page keeps working', async () => {
    const page = await browser.page();
    await ready(page);
    const photo = fixtureBytes('photo.jpg');
    const bad = [
      [{ name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a picture at all') }, /not an image this browser can read/],
      [{ name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) }, /is empty/],
      [{ name: 'cut.jpg', mimeType: 'image/jpeg', buffer: photo.subarray(0, 200) }, /not an image this browser can read/],
      [{ name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>') }, /SVG/],
      // Refused from its header, before the browser tries to decode 144 megapixels.
      [{ name: 'huge.png', mimeType: 'image/png', buffer: hugePng(12_000, 12_000) }, /too large \(12000×12000\)/],
    ];
    for (const [file, message] of bad) {
      await page.evaluate(() => (document.getElementById('message').hidden = true));
      await page.setInputFiles('#content-input', file);
      await page.waitForSelector('#message:not([hidden])');
      assert.match(await page.textContent('#message'), message, file.name);
      assert.equal(await page.isDisabled('#start'), true);
    }
    // Unusual but valid pictures are accepted: grey, 16-bit, transparent, an animation's first
    // frame. Each is shown before the next is chosen (a size no earlier file had).
    const good = [
      [{ name: 'grey16.png', mimeType: 'image/png', buffer: png(9, 6, 0, 16) }, [9, 6]],
      [{ name: 'alpha.png', mimeType: 'image/png', buffer: png(7, 5, 6, 8) }, [7, 5]],
      [{ name: 'animated.gif', mimeType: 'image/gif', buffer: fixtureBytes('animated.gif') }, [8, 6]],
    ];
    for (const [file, size] of good) {
      await page.setInputFiles('#content-input', file);
      await page.waitForFunction(
        ([w, h]) => {
          const preview = document.getElementById('content-preview');
          return preview.width === w && preview.height === h;
        },
        size,
      );
      assert.equal(await page.isHidden('#message'), true, file.name);
    }
    // The GIF's first frame is red, its second blue: the photo is the red one.
    const [r, g, b] = await page.evaluate(() =>
      [...document.getElementById('content-preview').getContext('2d').getImageData(4, 3, 1, 1).data]);
    assert.ok(r > 200 && g < 50 && b < 50, `the GIF gave ${[r, g, b]}, not its red first frame`);
    await choose(page);
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('the result downloads at full size as PNG and JPEG, and is shared where the browser can', async () => {
    const page = await browser.context.newPage();
    // This Chromium has no Web Share on Linux: stand in for it to see what the page hands over.
    await page.addInitScript(() => {
      navigator.canShare = (data) => data.files?.every((f) => f instanceof File);
      navigator.share = async (data) => (window.shared = data.files.map((f) => [f.name, f.type, f.size > 0]));
    });
    await page.goto(browser.url);
    await ready(page);
    await choose(page);
    await tiny(page, 48, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    await page.waitForSelector('#share:not([hidden])');
    const files = await page.evaluate(async () => {
      const read = async (id) => {
        const link = document.getElementById(id);
        const blob = blobOf(link.href);
        const bitmap = await createImageBitmap(blob);
        return [link.download, blob.type, bitmap.width, bitmap.height];
      };
      return [await read('download'), await read('download-jpeg')];
    });
    const size = await page.evaluate(() => [document.getElementById('output').width, document.getElementById('output').height]);
    assert.deepEqual(size, [48, 32]);
    assert.deepEqual(files, [['stylized.png', 'image/png', 48, 32], ['stylized.jpg', 'image/jpeg', 48, 32]]);
    await page.click('#share');
    await page.waitForFunction(() => window.shared);
    assert.deepEqual(await page.evaluate(() => window.shared), [['stylized.png', 'image/png', true]]);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('the first frame after Start is already stylized: the feed-forward start, at 256 px', async () => {
    const page = await browser.page();
    assert.equal(await ready(page), 'cpu');
    await choose(page);
    await tiny(page, 256, 100);
    const began = Date.now();
    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('output').dataset.frames === '1', null, { timeout: 60_000 });
    const seconds = (Date.now() - began) / 1000;
    // Read before the next frame can replace it: the run goes on in the worker meanwhile.
    const [difference, text] = await Promise.all([differenceFromPhoto(page), page.textContent('#progress-text')]);
    console.log(`Start to the first frame on the CPU fallback at 256 px: ${seconds.toFixed(1)} s (difference from the photo ${difference.toFixed(1)} of 255)`);
    assert.match(text, /^First picture in .*; refining it in 100 steps/);
    // The photo itself, or a picture the optimisation has barely moved, differs by a few levels;
    // the network's picture alone by about 59, mixed half and half with the photo by about 30.
    assert.ok(difference > 20, `the first frame is close to the photo (${difference})`);
    await page.click('#cancel');
    await page.waitForFunction(() => document.getElementById('progress-text').textContent.startsWith('Cancelled'));
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('the Quick preset paints a 1024 px picture with the feed-forward network alone', async () => {
    const page = await browser.page();
    await ready(page);
    await choose(page);
    // The Quality menu and the inputs show the engine's presets, defaults and limits.
    const settings = await page.evaluate(() => ({
      labels: [...document.querySelectorAll('#preset option')].map((o) => o.textContent),
      chosen: document.querySelector('#preset').value,
      size: ['value', 'min', 'max'].map((k) => document.querySelector('#size')[k]),
      steps: document.querySelector('#iterations').value,
      colors: document.querySelector('#colors').value,
      colorsHint: document.querySelector('#colors-hint').textContent,
      look: document.querySelector('#look').value,
    }));
    assert.deepEqual(settings, {
      labels: ['Quick (1024 px, one pass of a fast network)', 'Draft (256 px, 150 steps)', 'Balanced (384 px, 300 steps)',
        'Best (512 px, 500 steps)', 'Custom'],
      chosen: 'balanced',
      size: ['384', '16', '4096'],
      steps: '300',
      colors: 'painting',
      colorsHint: "The painting's colours and strokes.",
      look: 'painterly',
    });
    await page.selectOption('#preset', 'quick');
    assert.match(await run(page), /^Done: the quick picture, 1024×678 px, in .* on the CPU/);
    assert.deepEqual(await page.evaluate(() => [output.width, output.height]), [1024, 678]);
    const difference = await differenceFromPhoto(page);
    assert.ok(difference > 20, `the quick picture is close to the photo (${difference})`);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('a picture over the memory budget runs tile by tile and downloads at full size', async () => {
    // The smallest budget (128 MiB: 67k pixels in one pass) makes a 336 px picture (75k
    // pixels) run in 12 tiles, as a 4096 px one would at the page's own budget.
    const page = await browser.page('?memoryBudget=128');
    await ready(page);
    await choose(page);
    await tiny(page, 336, 1);
    await page.waitForFunction(() => /^About .* on this device.* run in 12 tiles/.test(document.getElementById('estimate').textContent));
    await page.evaluate(() => {
      window.texts = [];
      new MutationObserver(() => texts.push(document.getElementById('progress-text').textContent))
        .observe(document.getElementById('progress-text'), { childList: true, characterData: true, subtree: true });
      // The veil over the tiles still to come, at each tile: its opacity over the first tile
      // (top left) and over the last (bottom right).
      window.veils = [];
      const veil = document.getElementById('tiles');
      new MutationObserver(() => {
        const alpha = (x, y) => veil.getContext('2d').getImageData(x, y, 1, 1).data[3];
        veils.push({ done: Number(veil.dataset.done), first: alpha(1, 1), last: alpha(veil.width - 2, veil.height - 2) });
      }).observe(veil, { attributeFilter: ['data-done'] });
    });
    assert.match(await run(page), /^Done: 1 step on the CPU/);
    const texts = await page.evaluate(() => window.texts);
    assert.ok(texts.some((t) => /^Step 1 of 1 · 336×223 px · tile 12 of 12$/.test(t)), texts.join('\n'));
    const veils = await page.evaluate(() => window.veils);
    assert.deepEqual(veils.map((v) => v.done), [...Array(12).keys()].map((k) => k + 1), JSON.stringify(veils));
    for (const v of veils.slice(0, 11)) {
      assert.ok(v.first === 0 && v.last > 0, `the finished first tile is clear and the last still veiled: ${JSON.stringify(v)}`);
    }
    assert.equal(veils[11].last, 0, 'all tiles finished');
    assert.equal(await page.isHidden('#tiles'), true, 'the veil is lifted after the step');
    // The PNG is encoded after "Done"; the link shows once it is ready.
    await page.waitForSelector('#download:not([hidden])');
    const png = await page.evaluate(async () => {
      const link = document.getElementById('download');
      const bitmap = await createImageBitmap(blobOf(link.href));
      return [bitmap.width, bitmap.height];
    });
    assert.deepEqual(png, [336, 223]);
    // The estimate is now timed on this device.
    await page.waitForFunction(() => /^About .* on this device\. /.test(document.getElementById('estimate').textContent));
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('the CPU backend in wasm stylizes the picture', async () => {
    const page = await browser.page();
    assert.equal(await ready(page), 'cpu');
    assert.match(await page.textContent('#engine-status'), /CPU/);
    await choose(page);
    await tiny(page, 32, 4);
    assert.match(await run(page), /^Done: 4 steps on the CPU/);
    const difference = await differenceFromPhoto(page);
    assert.ok(difference > 4, `the result barely differs from the photo (${difference})`);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('Palette only recolours the photo at once, in the chosen size, and offers the download', async () => {
    const page = await browser.page();
    await ready(page);
    await choose(page);
    await tiny(page, 96, 4);
    await page.click('#palette');
    await page.waitForFunction(() => /^Done: the photo in the painting's colours/.test(document.getElementById('progress-text').textContent));
    assert.deepEqual(await page.evaluate(() => [output.width, output.height]), [96, 64]);
    const difference = await differenceFromPhoto(page);
    assert.ok(difference > 4, `the recoloured photo barely differs from the photo (${difference})`);
    // The PNG is encoded after "Done"; the link shows once it is ready.
    await page.waitForSelector('#download:not([hidden])');
    assert.equal(await page.isEnabled('#start'), true);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('a run too short to improve on its first picture keeps that picture, and says so', async () => {
    const page = await browser.page();
    await ready(page);
    await choose(page);
    // Every frame the canvas shows, copied as it is drawn (before the next can arrive); Start
    // resets the count to 0 before the first.
    await page.evaluate(() => {
      const output = document.getElementById('output');
      window.shown = [];
      new MutationObserver(() => {
        if (output.dataset.frames === '0') return;
        const { width, height } = output;
        window.shown.push([...output.getContext('2d').getImageData(0, 0, width, height).data]);
      }).observe(output, { attributeFilter: ['data-frames'] });
    });
    // One step scores the first picture and nothing else: nothing can beat it.
    await tiny(page, 64, 1);
    const text = await run(page);
    assert.match(text, /^Done: 1 step on the CPU.* None improved on the first picture, so it is kept\.$/);
    const shown = await page.evaluate(() => window.shown);
    assert.ok(shown.length >= 2, `${shown.length} frames`);
    const first = shown[0];
    assert.ok(shown.every((frame) => frame.length === first.length && frame.every((v, i) => v === first[i])), 'a frame other than the first picture was shown');
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

/** A PNG: `colour` 0 grey or 6 RGBA, `depth` 8 or 16 bits, a gradient. */
function png(width, height, colour, depth) {
  const channels = colour === 6 ? 4 : 1;
  const bytesPerSample = depth / 8;
  const row = 1 + width * channels * bytesPerSample;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let i = 1; i < row; i++) raw[y * row + i] = (i * 37 + y * 11) & 0xff;
  }
  return pngFile(width, height, colour, depth, deflateSync(raw));
}

/** A valid PNG of `width × height` grey pixels, all zero (compresses to almost nothing). */
function hugePng(width, height) {
  return pngFile(width, height, 0, 8, deflateSync(Buffer.alloc((width + 1) * height), { level: 9 }));
}

function pngFile(width, height, colour, depth, idat) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = depth;
  header[9] = colour;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
