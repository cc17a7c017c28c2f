// "Paint regions" on the page, on a phone-sized screen, with two of the gallery's paintings:
// strokes painted with real pointer events (mouse and touch, fast enough that their events are
// far apart), undo and redo by button and by Ctrl+Z, a pinch that paints nothing, Fill the
// rest; the keyboard's presets; and runs whose results have each painting where it was put
// and the photo kept where nothing was painted. The test reads what was painted from the
// overlay canvas, the colours the person sees (the first painting red, the second green,
// "keep the photo" yellow), and what the engine made from the result canvas.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { fixture, ready, root, run, start, tiny } from './harness.mjs';

/** The first and second paintings, from the gallery: a blue one and an orange one. */
const PAINTINGS = ['starry-night', 'the-scream'];

/**
 * Mean blue minus mean red (−255 to 255) of the result's left half, its right half, and of
 * the two paintings as chosen (their thumbnails in the list of chosen paintings).
 */
function blueness(page) {
  return page.evaluate(() => {
    const mean = (canvas, from = 0, to = 1) => {
      const { width, height } = canvas;
      const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      let [sum, n] = [0, 0];
      for (let y = 0; y < height; y++) {
        for (let x = Math.ceil(from * width); x < Math.floor(to * width); x++, n++) sum += data[4 * (y * width + x) + 2] - data[4 * (y * width + x)];
      }
      return sum / n;
    };
    const output = document.getElementById('output');
    const [first, second] = document.querySelectorAll('#style-list canvas');
    return { left: mean(output, 0, 0.45), right: mean(output, 0.55, 1), first: mean(first), second: mean(second) };
  });
}

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

/** The overlay's RGBA at (x, y) in 0–1 coordinates: the colour of the labels painted there. */
function overlayAt(page, x, y) {
  return page.evaluate(([x, y]) => {
    const overlay = document.getElementById('regions-overlay');
    const px = Math.floor(x * overlay.width);
    const py = Math.floor(y * overlay.height);
    return [...overlay.getContext('2d').getImageData(px, py, 1, 1).data];
  }, [x, y]);
}

/** How many of the overlay's pixels have anything painted. */
function paintedPixels(page) {
  return page.evaluate(() => {
    const overlay = document.getElementById('regions-overlay');
    const data = overlay.getContext('2d').getImageData(0, 0, overlay.width, overlay.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) n += data[i] > 0;
    return n;
  });
}

/** Viewport coordinates of (x, y), 0–1 over the overlay. */
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
    await page.setInputFiles('#content-input', fixture('photo.jpg'));
    for (const id of PAINTINGS) {
      await page.click(`[data-painting="${id}"]`);
      await page.waitForSelector(`[data-painting="${id}"][aria-pressed="true"]`);
    }
    await page.waitForFunction(() => document.querySelectorAll('#style-list li').length === 2);
  });
  after(async () => browser.close());

  test('strokes by mouse and touch, undo and redo, a pinch paints nothing, and Fill the rest', async () => {
    assert.equal(await page.isEnabled('#regions-toggle'), true);
    assert.equal(await page.isVisible('#regions'), false, 'closed until asked for');
    await page.click('#regions-toggle');
    assert.equal(await page.getAttribute('#regions-toggle', 'aria-expanded'), 'true');
    await page.locator('#regions-overlay').scrollIntoViewIfNeeded();
    const box = await page.locator('#regions-overlay').boundingBox();
    assert.ok(box.width <= 375 && box.width > 250, `the photo fits the screen's width: ${box.width} px`);
    assert.ok(box.y >= 0 && box.y + box.height <= 800, `the photo is on screen: ${JSON.stringify(box)}`);
    // A brush per painting, with its thumbnail, and the first painting's chosen.
    assert.equal(await page.locator('#regions-brushes canvas.swatch').count(), 2);
    assert.equal(await page.isChecked('input[name="brush"][value="0"]'), true);
    // A quick mouse stroke down the left: three events far apart, the line between filled in.
    await page.mouse.move(...(await point(page, 0.15, 0.1)));
    await page.mouse.down();
    await page.mouse.move(...(await point(page, 0.15, 0.9)), { steps: 2 });
    await page.mouse.up();
    for (const y of [0.2, 0.35, 0.5, 0.65, 0.8]) {
      const [r, , , a] = await overlayAt(page, 0.15, y);
      assert.ok(a > 100 && r > 150, `the first painting's colour (red) all along the stroke, at ${y}: ${[r, a]}`);
    }
    assert.equal((await overlayAt(page, 0.85, 0.5))[3], 0, 'nothing on the right yet');
    const stroke = await paintedPixels(page);
    // Undo and redo, by the buttons and by the keyboard (the stroke gave the editor the focus).
    await page.click('#regions-undo');
    assert.equal(await paintedPixels(page), 0, 'undone');
    await page.click('#regions-redo');
    assert.equal(await paintedPixels(page), stroke, 'redone');
    await page.keyboard.press('Control+z');
    assert.equal(await paintedPixels(page), 0, 'undone by Ctrl+Z');
    await page.keyboard.press('Control+Shift+Z');
    assert.equal(await paintedPixels(page), stroke, 'redone by Ctrl+Shift+Z');
    // A pinch: a second finger lands while the first moves; nothing stays painted.
    await page.locator('#regions-overlay').scrollIntoViewIfNeeded();
    const client = await page.context().newCDPSession(page);
    const [x1, y1] = await point(page, 0.6, 0.3);
    const [x2, y2] = await point(page, 0.8, 0.7);
    const touch = (type, points) => client.send('Input.dispatchTouchEvent', { type, touchPoints: points });
    await touch('touchStart', [{ x: x1, y: y1, id: 1 }]);
    await touch('touchMove', [{ x: x1, y: y1 + 20, id: 1 }]);
    assert.ok((await paintedPixels(page)) > stroke, 'one finger paints');
    await touch('touchStart', [{ x: x1, y: y1 + 20, id: 1 }, { x: x2, y: y2, id: 2 }]);
    await touch('touchMove', [{ x: x1 - 10, y: y1, id: 1 }, { x: x2 + 10, y: y2 + 20, id: 2 }]);
    await touch('touchEnd', [{ x: x1 - 10, y: y1, id: 1 }]); // the second finger lifts first
    await touch('touchMove', [{ x: x1 - 10, y: y1 + 40, id: 1 }]);
    await touch('touchEnd', []);
    assert.equal(await paintedPixels(page), stroke, 'the pinch painted nothing, and left the stroke before it');
    // One finger paints: with the keep brush, a touch stroke across the middle (where the
    // photo is now: choosing the brush may have scrolled the page).
    await page.check('input[name="brush"][value="keep"]');
    await page.locator('#regions-overlay').scrollIntoViewIfNeeded();
    const [x3, y3] = await point(page, 0.6, 0.3);
    await touch('touchStart', [{ x: x3, y: y3, id: 3 }]);
    await touch('touchMove', [{ x: x3, y: y3 + 30, id: 3 }]);
    await touch('touchEnd', []);
    const kept = await overlayAt(page, 0.6, 0.3);
    assert.ok(kept[3] > 100 && kept[0] > 200 && kept[1] > 200 && kept[2] < 100, `the keep brush's yellow: ${kept}`);
    // Fill the rest with the second painting: the left stays the first's, the right is the
    // second's (green) and the keep stroke stays yellow.
    await page.check('input[name="brush"][value="1"]');
    await page.click('#regions-fill');
    const [r, g, , a] = await overlayAt(page, 0.95, 0.5);
    assert.ok(a > 100 && g > r, `the second painting's colour on the right: ${[r, g, a]}`);
    const left = await overlayAt(page, 0.15, 0.5);
    assert.ok(left[0] > 150 && left[1] < 100, `the first painting's still on the left: ${left}`);
    assert.ok((await overlayAt(page, 0.6, 0.3))[1] > 200, 'the kept part is still kept');
    // Clear (and undo it).
    await page.click('#regions-clear');
    assert.equal(await paintedPixels(page), 0);
    await page.click('#regions-undo');
    assert.ok((await overlayAt(page, 0.95, 0.5))[3] > 100);
    assert.deepEqual(browser.errors, []);
  });

  test('from the keyboard: the first painting on the left, the second on the right, and the result follows', async () => {
    await page.click('#regions-clear');
    // The first painting's menu down to "Left half", Tab to the second's, down to "Right half".
    const [first, second] = [page.locator('#regions-presets select').first(), page.locator('#regions-presets select').nth(1)];
    await first.focus();
    for (let k = 0; k < 2; k++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    assert.equal(await second.evaluate((select) => select === document.activeElement), true, 'Tab goes to the second menu');
    for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowDown');
    assert.deepEqual([await first.inputValue(), await second.inputValue()], ['left', 'right']);
    const [left, right] = [await overlayAt(page, 0.2, 0.5), await overlayAt(page, 0.8, 0.5)];
    assert.ok(left[3] > 100 && left[0] > 150 && left[1] < 100, `the first painting (red) on the left: ${left}`);
    assert.ok(right[3] > 100 && right[1] > right[0], `the second painting (green) on the right: ${right}`);
    await tiny(page, 96, 0);
    assert.match(await run(page), /^Done/);
    // The Quick picture (0 steps): each half has its painting's colours, so the half of the
    // bluer painting is the bluer half.
    const b = await blueness(page);
    console.log(`blue minus red: result left ${b.left.toFixed(1)}, right ${b.right.toFixed(1)}; paintings ${b.first.toFixed(1)}, ${b.second.toFixed(1)}`);
    assert.ok(Math.abs(b.first - b.second) > 20, `the paintings differ in colour: ${JSON.stringify(b)}`);
    assert.ok((b.left - b.right) * Math.sign(b.first - b.second) > Math.abs(b.first - b.second) / 2, `the halves differ as the paintings do: ${JSON.stringify(b)}`);
    assert.deepEqual(browser.errors, []);
  });

  test('the photo is kept where nothing is painted', async () => {
    await page.click('#regions-clear');
    await page.selectOption('#regions-presets select >> nth=0', 'left');
    assert.equal((await overlayAt(page, 0.8, 0.5))[3], 0, 'nothing on the right: the photo is kept there');
    assert.match(await run(page), /^Done/);
    const [left, middle, right] = await thirds(page);
    console.log(`difference from the photo (0–255): left ${left.toFixed(1)}, middle ${middle.toFixed(1)}, right ${right.toFixed(1)}`);
    assert.ok(left > 25, `the left is painted: ${left}`);
    assert.ok(right < 6 && right < left / 4, `the right is the photo: ${right}`);
    mkdirSync(join(root, 'tests', 'out'), { recursive: true });
    await page.screenshot({ path: join(root, 'tests', 'out', 'regions-375px.png'), fullPage: true });
    assert.deepEqual(browser.errors, []);
  });

  test('with only the photo kept, the paintings take the rest', async () => {
    await page.click('#regions-clear');
    await page.check('input[name="brush"][value="keep"]');
    await page.fill('#brush-size', '160');
    await page.fill('#brush-softness', '0');
    // Back to the editor (the run before scrolled the page to its result).
    await page.locator('#regions-overlay').scrollIntoViewIfNeeded();
    for (const x of [0.8, 0.95]) {
      await page.mouse.move(...(await point(page, x, 0)));
      await page.mouse.down();
      await page.mouse.move(...(await point(page, x, 1)), { steps: 3 });
      await page.mouse.up();
    }
    assert.ok((await overlayAt(page, 0.9, 0.5))[3] > 100 && (await overlayAt(page, 0.2, 0.5))[3] === 0, 'kept on the right only');
    assert.match(await run(page), /^Done/);
    const [left, , right] = await thirds(page);
    console.log(`only kept painted, difference from the photo: left ${left.toFixed(1)}, right ${right.toFixed(1)}`);
    assert.ok(left > 25 && right < left / 4, `left ${left}, right ${right}`);
    assert.deepEqual(browser.errors, []);
  });
});
