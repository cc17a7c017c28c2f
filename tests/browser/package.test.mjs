// The npm package the build writes (dist/npm), as another site gets it: packed with `npm
// pack`, installed from the tarball into a scratch site, its types checked against their use
// by `tsc`, and the API and the widget imported by the package's name (an import map), each
// stylizing a picture.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { root, start } from './harness.mjs';

const PAGE = `<!doctype html><title>a site using the package</title><link rel="icon" href="data:,">
<script type="importmap">{"imports": {
  "@style-transfer/engine": "/node_modules/@style-transfer/engine/stylizer.js",
  "@style-transfer/engine/widget": "/node_modules/@style-transfer/engine/widget.js"
}}</script>
<script type="module">
  import { createStylizer } from '@style-transfer/engine';
  const picture = (w, h, seed) => {
    const data = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i % 4 === 3) ? 255 : (i * seed * 37 + (i >> 7) * 11) & 0xff;
    return new ImageData(data, w, h);
  };
  window.runWidget = async () => {
    await import('@style-transfer/engine/widget');
    const widget = document.createElement('style-transfer');
    Object.assign(widget, { content: picture(40, 30, 3) });
    for (const [name, value] of Object.entries({ 'style-src': 'starry-night', backend: 'cpu', size: '32', iterations: '1' })) widget.setAttribute(name, value);
    const loaded = new Promise((resolve) => widget.addEventListener('load', (e) => resolve(e.detail.backend), { once: true }));
    document.body.append(widget);
    const backend = await loaded;
    const image = await widget.run();
    widget.remove();
    return { backend, size: [image.width, image.height] };
  };
  window.run = async () => {
    const stylizer = await createStylizer({ backend: 'cpu' });
    const steps = [];
    const result = await stylizer.stylize({
      content: picture(40, 30, 1),
      styles: [{ image: picture(32, 32, 7) }],
      options: { size: 32, iterations: 2 },
      onProgress: (p) => steps.push(p.iteration),
    });
    stylizer.dispose();
    return { size: [result.image.width, result.image.height], backend: result.backend, steps };
  };
</script>`;

describe('the npm package', () => {
  const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
  let site;
  let manifest;
  before(() => {
    site = mkdtempSync(join(tmpdir(), 'style-transfer-npm-'));
    manifest = JSON.parse(readFileSync(join(root, 'dist', 'npm', 'package.json'), 'utf8'));
    const tarball = npm(['pack', join(root, 'dist', 'npm'), '--pack-destination', site], site).trim().split('\n').at(-1);
    writeFileSync(join(site, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    npm(['install', '--offline', `./${tarball}`], site);
    writeFileSync(join(site, 'index.html'), PAGE);
  });
  after(() => rmSync(site, { recursive: true, force: true }));

  test('holds the JS API, the worker, the engine and the weights, with types', () => {
    const installed = join(site, 'node_modules', ...manifest.name.split('/'));
    const json = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    assert.equal(json.exports['.'].default, './stylizer.js');
    assert.equal(json.exports['./widget'].default, './widget.js');
    for (const file of ['stylizer.js', 'stylizer.d.ts', 'worker.js', 'weights.js', 'images.js', 'masks.js', 'widget.js', 'widget.d.ts', 'gallery/starry_night.jpg', 'pkg/build.json']) {
      assert.ok(readFileSync(join(installed, file)).length > 0, file);
    }
    const build = JSON.parse(readFileSync(join(installed, 'pkg', 'build.json'), 'utf8'));
    const engines = Object.values(build.engines).flatMap((e) => [e.glue, e.wasm, ...e.snippets]);
    for (const file of [...engines, build.weights.vgg.url, build.weights.fast.url]) {
      assert.ok(readFileSync(join(installed, 'pkg', file)).length > 0, file);
    }
  });

  test('its types check against a TypeScript site using it, and refuse misuse', () => {
    copyFileSync(join(root, 'tests', 'types', 'use.ts'), join(site, 'use.ts'));
    const tsc = join(root, 'tests', 'node_modules', '.bin', 'tsc');
    const flags = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--lib', 'es2022,dom', 'use.ts'];
    try {
      execFileSync(tsc, flags, { cwd: site, encoding: 'utf8' });
    } catch (error) {
      assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
    }
  });

  test('a site imports it by its name and stylizes a picture, through the API and the widget', async () => {
    // Another site, with headers of its own: here, none.
    const browser = await start({ webgpu: false, dir: site, plain: true });
    try {
      const page = await browser.page();
      const result = await page.evaluate(() => window.run());
      assert.deepEqual(result, { size: [32, 24], backend: 'cpu', steps: [0, 1, 2] });
      assert.ok(browser.served.some((p) => p.startsWith('/node_modules/@style-transfer/engine/pkg/')), 'the engine came from the package');
      // The widget, by its own entry point, with a preset painting from the package.
      assert.deepEqual(await page.evaluate(() => window.runWidget()), { backend: 'cpu', size: [32, 24] });
      assert.ok(browser.served.includes('/node_modules/@style-transfer/engine/gallery/starry_night.jpg'));
      assert.deepEqual(browser.errors, []);
    } finally {
      await browser.close();
    }
  });
});
