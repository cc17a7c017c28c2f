// Accessible and usable on a phone: axe-core finds nothing on the page or the widget, the
// whole flow works from the keyboard, and at 375×812 nothing scrolls sideways.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { fixture, ready, root, start, tiny } from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on `page` (within `selector` if given), one line each. */
async function violations(page, selector) {
  // Evaluated by the test driver: a script tag would be refused by the site's
  // Content-Security-Policy, as it should be.
  await page.evaluate(AXE);
  const found = await page.evaluate(async (selector) => {
    const result = await window.axe.run(selector ? document.querySelector(selector) : document);
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, selector);
  return found;
}

/** Presses Tab until `selector` has the focus (at most 80 times); false if it never does. */
async function tabTo(page, selector) {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return true;
  }
  return false;
}

describe('accessibility', () => {
  let browser;
  before(async () => (browser = await start({ webgpu: false })));
  after(() => browser.close());

  test('axe-core finds no violation on the page, before and after a run', async () => {
    const page = await browser.page();
    await ready(page);
    assert.deepEqual(await violations(page), []);
    await page.click('[data-painting="great-wave"]');
    await page.setInputFiles('#content-input', fixture('photo.jpg'));
    await tiny(page, 32, 2);
    await page.click('#start');
    await page.waitForSelector('#download:not([hidden])', { timeout: 120_000 });
    assert.deepEqual(await violations(page), []);
    // And with the regions editor open.
    await page.click('#regions-toggle');
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  test('axe-core finds no violation in the widget', async () => {
    const page = await browser.page('embed.html');
    await page.waitForFunction(() => document.querySelector('style-transfer')?.shadowRoot?.querySelector('.run'));
    assert.deepEqual(await violations(page, 'style-transfer'), []);
    await page.close();
  });

  test('keyboard only: a gallery painting, a photo, Start, Cancel, and the result slider', async () => {
    const page = await browser.page();
    await ready(page);
    assert.ok(await tabTo(page, '[data-painting="shipwreck"]'), 'gallery painting not reachable');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-painting="shipwreck"][aria-pressed="true"]');
    await page.evaluate(() => document.activeElement.blur());
    assert.ok(await tabTo(page, '#content-input'), 'file input not reachable');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    await chooser.setFiles(fixture('photo.jpg'));
    await page.waitForFunction(() => !document.getElementById('start').disabled);
    assert.ok(await tabTo(page, '#start'), 'Start not reachable');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /^Step \d+/.test(document.getElementById('progress-text').textContent), null, { timeout: 120_000 });
    assert.ok(await tabTo(page, '#cancel'), 'Cancel not reachable');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('progress-text').textContent.startsWith('Cancelled'));
    // A finished run: the before/after slider moves with the arrow keys.
    await tiny(page, 32, 2);
    await page.click('#start');
    await page.waitForSelector('#compare-control:not([hidden])', { timeout: 120_000 });
    await page.focus('#compare-position');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
    assert.equal(await page.inputValue('#compare-position'), '95');
    assert.equal(await page.evaluate(() => document.getElementById('before').style.clipPath), 'inset(0px 0px 0px 95%)');
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

describe('on a phone-sized screen', () => {
  let browser;
  before(async () => (browser = await start({ webgpu: false, viewport: { width: 375, height: 812 } })));
  after(() => browser.close());

  test('at 375×812 nothing scrolls sideways and every control, the regions editor\'s too, is on screen and big enough', async () => {
    const page = await browser.page();
    await ready(page);
    await page.click('[data-painting="starry-night"]');
    await page.setInputFiles('#content-input', fixture('photo.jpg'));
    // Nothing to download or share before there is a result.
    for (const id of ['#download', '#download-jpeg', '#share']) assert.equal(await page.isVisible(id), false, id);
    // The regions editor open too: its brushes and buttons are controls like the others.
    await page.waitForFunction(() => !document.getElementById('regions-toggle').disabled);
    await page.click('#regions-toggle');
    const layout = await page.evaluate(() => {
      const controls = [...document.querySelectorAll('button:not([hidden]), input, select, a[href]:not([hidden])')]
        .filter((e) => e.offsetParent !== null && !e.closest('dialog'));
      return {
        scrollWidth: document.documentElement.scrollWidth,
        offscreen: controls.filter((e) => {
          const r = e.getBoundingClientRect();
          return r.left < 0 || r.right > 375;
        }).map((e) => e.id || e.className || e.tagName),
        tiny: controls.filter((e) => {
          const r = e.getBoundingClientRect();
          return r.width < 24 || r.height < 24;
        }).map((e) => e.id || e.className || e.tagName),
      };
    });
    mkdirSync(join(root, 'tests', 'out'), { recursive: true });
    await page.screenshot({ path: join(root, 'tests', 'out', 'phone-375x812.png'), fullPage: true });
    assert.ok(layout.scrollWidth <= 375, `the page is ${layout.scrollWidth} px wide`);
    assert.deepEqual(layout.offscreen, []);
    assert.deepEqual(layout.tiny, []);
    await page.close();
  });
});
