// Where pictures come from: the gallery of preset paintings, the camera, drag-and-drop and
// paste (real DOM events carrying Files), with the non-image cases.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { fixture, fixtureBytes, ready, run, start, tiny } from './harness.mjs';

/** Fires `type` (drop or paste) at `selector` with a DataTransfer holding `files`. */
function fire(page, type, selector, files) {
  return page.evaluate(
    ({ type, selector, files }) => {
      const transfer = new DataTransfer();
      for (const f of files) transfer.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
      const target = document.querySelector(selector);
      if (type === 'paste') {
        target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
      } else {
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    },
    { type, selector, files: files.map((f) => ({ ...f, bytes: [...f.bytes] })) },
  );
}

const photoFile = () => ({ name: 'photo.jpg', type: 'image/jpeg', bytes: fixtureBytes('photo.jpg') });
const previewSize = (page) => page.evaluate(() => [document.getElementById('content-preview').width, document.getElementById('content-preview').height]);
const styleCount = (page) => page.locator('#style-list li').count();

describe('with a camera', () => {
  let browser;
  before(async () => (browser = await start({ webgpu: false, camera: true })));
  after(() => browser.close());

  test('the gallery: five credited paintings, toggled by click and keyboard, and a run with one', async () => {
    const page = await browser.page();
    await ready(page);
    const paintings = await page.locator('#gallery button.painting').evaluateAll((buttons) =>
      buttons.map((b) => [b.dataset.painting, b.querySelector('.credit').textContent]));
    assert.equal(paintings.length, 5);
    assert.deepEqual(paintings[0], ['starry-night', 'Vincent van Gogh, 1889, public domain']);
    const starry = page.locator('[data-painting="starry-night"]');
    await starry.click();
    await page.waitForSelector('[data-painting="starry-night"][aria-pressed="true"]');
    await page.focus('[data-painting="udnie"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-painting="udnie"][aria-pressed="true"]');
    assert.equal(await styleCount(page), 2);
    await starry.click(); // pressed again: out of the blend
    await page.waitForSelector('[data-painting="starry-night"][aria-pressed="false"]');
    assert.equal(await styleCount(page), 1);
    await page.setInputFiles('#content-input', fixture('photo.jpg'));
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('"Take a photo" captures a frame of the camera as the photo', async () => {
    const page = await browser.page();
    await ready(page);
    await page.click('#take-photo');
    await page.waitForSelector('#camera[open]');
    await page.waitForFunction(() => document.getElementById('camera-view').readyState >= 2);
    await page.click('#camera-capture');
    await page.waitForFunction(() => document.getElementById('content-preview').width > 0);
    const [width, height] = await previewSize(page);
    const video = await page.evaluate(() => document.getElementById('camera-view').srcObject);
    assert.ok(width >= 320 && height >= 240, `${width}×${height}`);
    assert.equal(video, null, 'the camera was not released');
    assert.equal(await page.isVisible('#camera'), false);
    await page.click('[data-painting="udnie"]');
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('drag-and-drop and paste take files; a dropped non-image gets a message', async () => {
    const page = await browser.page();
    await ready(page);
    await fire(page, 'drop', '#content-drop', [{ name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('hello') }]);
    await page.waitForSelector('#message:not([hidden])');
    assert.match(await page.textContent('#message'), /not an image this browser can read/);
    await fire(page, 'drop', '#content-drop', [photoFile()]);
    await page.waitForFunction(() => document.getElementById('content-preview').width === 160);
    assert.deepEqual(await previewSize(page), [160, 106]);
    assert.equal(await page.isHidden('#message'), true);
    // With a photo chosen, a paste goes to the paintings; a drop on them too.
    await fire(page, 'paste', 'body', [{ name: 'painting.png', type: 'image/png', bytes: fixtureBytes('painting.png') }]);
    await page.waitForFunction(() => document.querySelectorAll('#style-list li').length === 1);
    await fire(page, 'drop', '#style-drop', [{ name: 'painting.png', type: 'image/png', bytes: fixtureBytes('painting.png') }]);
    await page.waitForFunction(() => document.querySelectorAll('#style-list li').length === 2);
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

describe('with the camera refused', () => {
  let browser;
  before(async () => (browser = await start({ webgpu: false, camera: 'denied' })));
  after(() => browser.close());

  test('a clear message, and the page keeps working', async () => {
    const page = await browser.page();
    await ready(page);
    await page.click('#take-photo');
    await page.waitForSelector('#message:not([hidden])', { timeout: 30_000 });
    assert.match(await page.textContent('#message'), /Camera access was denied/);
    assert.equal(await page.isVisible('#camera'), false);
    await page.setInputFiles('#content-input', fixture('photo.jpg'));
    await page.waitForFunction(() => document.getElementById('message').hidden);
    await page.click('[data-painting="the-scream"]');
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});
