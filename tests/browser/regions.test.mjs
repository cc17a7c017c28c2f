// "Paint regions" on the page, on a phone-sized screen: strokes painted with real pointer
// events (mouse and touch), undo and redo, a pinch that paints nothing, the keyboard's
// presets, and a run whose result has each painting where it was painted and the photo kept.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { choose, fixture, ready, root, run, start, tiny } from './harness.mjs';

/** The mean absolute difference (0–255) of each third of the result (left, middle, right) from the photo. */
function thirds(page) {
  return page.evaluate(() => {
    const output = document.getElementById('output');
    const { width, height } = output;
    const result = output.getContext('2d').getImageData(0, 0, width, height).data;
    const photo = new OffscreenCanvas(width, height);
    const context = photo.getContext('2d');
    context.drawImage(document.getElementById('regions-photo'), 0, 0, width, height);
    const original = context.getImageData(0, 0, width, height).data;
    return [0, 1, 2].map((k) => {
      const [from, to] = [Math.round((k * width) / 3), Math.round(((k + 1) * width) / 3)];
      let [difference, n] = [0, 0];
      for (let y = 0; y < height; y++) {
        for (let x = from + 2; x < to - 2; x++, n += 3) {
          for (let c = 0; c < 3; c++) difference += Math.abs(result[4 * (y * width + x) + c] - original[4 * (y * width + x) + c]);
        }
      }
      return difference / n;
    });
  });
}

/** The painted labels under the overlay at (x, y) in 0–1 coordinates: its RGBA. */
function overlayAt(page, x, y) {
  return page.evaluate(([x, y]) => {
    const overlay = document.getElementById('regions-overlay');
    const px = Math.floor(x * overlay.width);
    const py = Math.floor(y * overlay.height);
    return [...overlay.getContext('2d').getImageData(px, py, 1, 1).data];
  }, [x, y]);
}

/** Page coordinates of (x, y), 0–1 over the overlay. */
async function point(page, x, y) {
  const box = await page.locator('#regions-overlay').boundingBox();
  return [box.x + x * box.width, box.y + y * box.height];
}

describe('painting regions on a phone-sized screen', () => {
  let browser;
  let page;
  before(async () => {
    browser = await start({ webgpu: false, viewport: { width: 375, height: 800 } });
    page = await browser.page();
    await ready(page);
    await choose(page, { content: fixture('photo.jpg'), styles: [fixture('painting.png'), fixture('photo.jpg')] });
    await page.waitForFunction(() => document.querySelectorAll('#style-list li').length === 2);
  });
  after(async () => browser.close());

  test('strokes by mouse and touch, undo and redo, a pinch paints nothing, and Fill the rest', async () => {
    assert.equal(await page.isEnabled('#regions-toggle'), true);
    await page.click('#regions-toggle');
    assert.equal(await page.isVisible('#regions-overlay'), true);
    const box = await page.locator('#regions-overlay').boundingBox();
    assert.ok(box.width <= 375 && box.width > 250, `the photo fits the screen: ${box.width} px`);
    // The first painting's brush is chosen; a quick mouse stroke down the left (two events
    // far apart: the stroke between them is filled in).
    await page.mouse.move(...(await point(page, 0.15, 0.1)));
    await page.mouse.down();
    await page.mouse.move(...(await point(page, 0.15, 0.9)), { steps: 2 });
    await page.mouse.up();
    const [r1, , , a1] = await overlayAt(page, 0.15, 0.5);
    assert.ok(a1 > 100 && r1 > 150, `the first painting's colour (red) in the middle of the stroke: ${[r1, a1]}`);
    assert.equal((await overlayAt(page, 0.85, 0.5))[3], 0, 'nothing on the right yet');
    // Undo and redo.
    await page.click('#regions-undo');
    assert.equal((await overlayAt(page, 0.15, 0.5))[3], 0, 'undone');
    await page.click('#regions-redo');
    assert.ok((await overlayAt(page, 0.15, 0.5))[3] > 100, 'redone');
    // A pinch: a second finger lands while the first moves; nothing stays painted.
    const client = await page.context().newCDPSession(page);
    const [x1, y1] = await point(page, 0.6, 0.3);
    const [x2, y2] = await point(page, 0.8, 0.7);
    const touch = (type, points) => client.send('Input.dispatchTouchEvent', { type, touchPoints: points });
    await touch('touchStart', [{ x: x1, y: y1, id: 1 }]);
    await touch('touchMove', [{ x: x1, y: y1 + 20, id: 1 }]);
    await touch('touchStart', [{ x: x1, y: y1 + 20, id: 1 }, { x: x2, y: y2, id: 2 }]);
    await touch('touchMove', [{ x: x1 - 10, y: y1, id: 1 }, { x: x2 + 10, y: y2 + 20, id: 2 }]);
    await touch('touchEnd', []);
    assert.equal((await overlayAt(page, 0.6, 0.33))[3], 0, 'the pinch painted nothing');
    // One finger paints: with the keep brush, a touch stroke across the middle.
    await page.check('input[name="brush"][value="keep"]');
    await touch('touchStart', [{ x: x1, y: y1, id: 3 }]);
    await touch('touchMove', [{ x: x1, y: y1 + 30, id: 3 }]);
    await touch('touchEnd', []);
    const kept = await overlayAt(page, 0.6, 0.3);
    assert.ok(kept[3] > 100 && kept[0] > 200 && kept[1] > 200, `the keep brush's white: ${kept}`);
    // Fill the rest with the second painting: the right edge is now its colour (green).
    await page.check('input[name="brush"][value="1"]');
    await page.click('#regions-fill');
    const [r, g, , a] = await overlayAt(page, 0.95, 0.5);
    assert.ok(a > 100 && g > r, `the second painting's colour on the right: ${[r, g, a]}`);
    // Clear (and undo it).
    await page.click('#regions-clear');
    assert.equal((await overlayAt(page, 0.95, 0.5))[3], 0);
    await page.click('#regions-undo');
    assert.ok((await overlayAt(page, 0.95, 0.5))[3] > 100);
    assert.deepEqual(browser.errors, []);
  });

  test('from the keyboard: the painting on the left, the photo kept on the right, and the result follows', async () => {
    await page.click('#regions-clear');
    // The first painting's menu, by the keyboard: Tab to it, then down to "Left half".
    const menu = page.locator('#regions-presets select').first();
    await menu.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await menu.inputValue(), 'left');
    assert.ok((await overlayAt(page, 0.2, 0.5))[3] > 100, 'painted on the left');
    assert.equal((await overlayAt(page, 0.8, 0.5))[3], 0, 'nothing on the right: the photo is kept there');
    await tiny(page, 96, 0);
    const text = await run(page);
    assert.match(text, /^Done/);
    const [left, middle, right] = await thirds(page);
    console.log(`difference from the photo (0–255): left ${left.toFixed(1)}, middle ${middle.toFixed(1)}, right ${right.toFixed(1)}`);
    // The Quick picture (0 steps): the network's painting on the left, the photo on the right.
    assert.ok(left > 25, `the left is painted: ${left}`);
    assert.ok(right < 6 && right < left / 4, `the right is the photo: ${right}`);
    mkdirSync(join(root, 'tests', 'out'), { recursive: true });
    await page.screenshot({ path: join(root, 'tests', 'out', 'regions-375px.png'), fullPage: true });
    assert.deepEqual(browser.errors, []);
  });
});
