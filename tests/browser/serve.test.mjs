// The server's Content-Encoding: the build's compressed copies, chosen by Accept-Encoding,
// decoding to the file itself; a stale copy is never sent. The site's headers on every
// response, as the build's `_headers` file lists them. (Node's HTTP client, no browser.)

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { HEADERS } from '../../www/headers.mjs';
import { serve } from '../../www/serve.mjs';
import { copyOfSite, root } from './harness.mjs';

/** Status, headers and raw body of GET `url` with `headers`. */
function fetchRaw(url, headers) {
  return new Promise((resolve, reject) =>
    get(url, { headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject),
  );
}

const DECODE = { br: brotliDecompressSync, gzip: gunzipSync, undefined: (b) => b };

test('the wasm and the weights go out compressed as the browser accepts, and decode to the files', async () => {
  const build = JSON.parse(readFileSync(join(root, 'www', 'pkg', 'build.json'), 'utf8'));
  const { server, url } = await serve({ port: 0 });
  try {
    for (const file of [build.engines.webgpu.wasm, build.engines.cpu.wasm, build.weights.vgg.url]) {
      const bytes = readFileSync(join(root, 'www', 'pkg', file));
      for (const [accept, expected] of [
        ['gzip, deflate, br, zstd', 'br'],
        ['br;q=0, gzip', 'gzip'],
        ['gzip;q=0.5', 'gzip'],
        ['identity', undefined],
        [undefined, undefined],
      ]) {
        const response = await fetchRaw(`${url}pkg/${file}`, accept ? { 'accept-encoding': accept } : {});
        assert.equal(response.status, 200);
        assert.equal(response.headers['content-encoding'], expected, `${file} for ${accept}`);
        assert.equal(Number(response.headers['content-length']), response.body.length);
        assert.equal(response.headers.vary, 'accept-encoding');
        assert.ok(DECODE[expected](response.body).equals(bytes), `${file} for ${accept} decodes to the file`);
        if (expected) assert.ok(response.body.length < 0.9 * bytes.length, `${file}: ${response.body.length} of ${bytes.length}`);
      }
    }
    // The build's tools are not served.
    assert.equal((await fetchRaw(`${url}tools/package.json`, {})).status, 404);
  } finally {
    server.close();
  }
});

test("the development server serves the site folder with www/'s edits, and never the build", async () => {
  const site = copyOfSite();
  const { server, url } = await serve({ port: 0, dir: site, dev: true });
  try {
    for (const path of ['build.mjs', 'serve.mjs', 'shell.mjs', 'tools/package.json', 'stylizer.d.ts']) {
      assert.equal((await fetchRaw(`${url}${path}`, {})).status, 404, path);
      assert.ok(!existsSync(join(site, path)), `${path} is not copied into the site`);
    }
    const response = await fetchRaw(`${url}stylizer.js`, {});
    assert.ok(response.body.equals(readFileSync(join(root, 'www', 'stylizer.js'))));
  } finally {
    server.close();
    rmSync(site, { recursive: true, force: true });
  }
});

test('a compressed copy older than its file is ignored', async () => {
  const site = copyOfSite();
  const build = JSON.parse(readFileSync(join(site, 'pkg', 'build.json'), 'utf8'));
  const file = join(site, 'pkg', build.weights.fast.url);
  const later = new Date(Date.now() + 60_000);
  utimesSync(file, later, later); // the file changed after the build compressed it
  const { server, url } = await serve({ port: 0, dir: site });
  try {
    const response = await fetchRaw(`${url}pkg/${build.weights.fast.url}`, { 'accept-encoding': 'br, gzip' });
    assert.equal(response.headers['content-encoding'], undefined);
    assert.ok(response.body.equals(readFileSync(file)));
  } finally {
    server.close();
    rmSync(site, { recursive: true, force: true });
  }
});

test("every response carries the site's headers, the Content-Security-Policy among them, as dist/site/_headers lists them", async () => {
  const build = JSON.parse(readFileSync(join(root, 'www', 'pkg', 'build.json'), 'utf8'));
  const { server, url } = await serve({ port: 0 });
  try {
    for (const path of ['', 'index.html', 'worker.js', `pkg/${build.engines.cpu.wasm}`, 'no-such-file']) {
      const { headers } = await fetchRaw(url + path, { 'accept-encoding': 'br' });
      for (const [name, value] of Object.entries(HEADERS)) assert.equal(headers[name], value, `${name} of /${path}`);
    }
  } finally {
    server.close();
  }
  const file = readFileSync(join(root, 'dist', 'site', '_headers'), 'utf8').trim().split('\n');
  assert.equal(file[0], '/*');
  const listed = Object.fromEntries(file.slice(1).map((line) => line.trim().split(/: (.*)/s).slice(0, 2)));
  assert.deepEqual(listed, HEADERS);
  // What the issue asked of the policy, directive by directive.
  const policy = Object.fromEntries(HEADERS['content-security-policy'].split('; ').map((d) => d.split(/ (.*)/s).slice(0, 2)));
  assert.equal(policy['default-src'], "'self'");
  assert.equal(policy['script-src'], "'self' 'wasm-unsafe-eval'");
  assert.equal(policy['worker-src'], "'self'");
  assert.equal(policy['img-src'], "'self' blob: data:");
  assert.equal(policy['frame-ancestors'], "'none'");
  assert.doesNotMatch(HEADERS['content-security-policy'], /unsafe-inline|'unsafe-eval'/);
});
