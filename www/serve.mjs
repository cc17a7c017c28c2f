#!/usr/bin/env node
// Serves the deployable site, dist/site, on http://127.0.0.1:8080 (PORT and HOST to change),
// running the web build first when dist/site is missing or older than the engine's sources
// (--no-build to skip).
//
//   node www/serve.mjs
//
// Every response has the site's headers (www/headers.mjs: a strict Content-Security-Policy,
// cross-origin isolation, cross-origin use for the widget), and nothing is cached by the
// browser's HTTP cache, so a rebuild shows at once. Run as a command it is the
// development server: before each response, a file of www/ newer than its copy in dist/site
// is copied over it (so an edit shows on reload, without a build), the service worker's file
// list follows, and the service worker fetches from the network first (offline, the cache
// still answers). The tests serve the site as a static host would (`dev: false`).
//
// A file with a compressed copy beside it (`file.br`, `file.gz`, written by www/build.mjs) is
// sent as that copy with Content-Encoding when the browser accepts it: Brotli first, then
// gzip. A copy older than its file is stale and ignored.

import { execFileSync } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ENCODINGS } from './compress.mjs';
import { HEADERS } from './headers.mjs';

import { isServed, writeShellManifest } from './shell.mjs';

const www = dirname(fileURLToPath(import.meta.url));
const root = resolve(www, '..');
const site = join(root, 'dist', 'site');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ts': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** Newest modification time under `dir` (files only). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function needsBuild() {
  const manifest = join(site, 'pkg', 'build.json');
  if (!existsSync(manifest)) return true;
  const built = statSync(manifest).mtimeMs;
  const sources = [join(root, 'crate', 'src'), join(root, 'models')];
  const files = [join(root, 'Cargo.toml'), join(root, 'Cargo.lock'), join(root, 'crate', 'Cargo.toml'), join(root, 'wasm-pack.toml')];
  return Math.max(...sources.map(newest), ...files.map((f) => statSync(f).mtimeMs)) > built;
}

/**
 * In development: copies each file under `sources` (www/) that is part of the site and newer
 * than its copy under `dir` (dist/site) over that copy, keeping its time. A few dozen stats
 * per request: the site is small.
 */
function syncEdits(sources, dir) {
  for (const entry of readdirSync(sources, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const from = join(entry.parentPath, entry.name);
    if (!isServed(sources, from)) continue;
    const to = join(dir, relative(sources, from));
    const { mtime } = statSync(from);
    // Newer by more than a millisecond: a copy's time (cpSync's, or set here through a Date)
    // keeps no more than that.
    if (existsSync(to) && statSync(to).mtimeMs >= mtime.getTime() - 1) continue;
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    utimesSync(to, mtime, mtime);
  }
}

/**
 * In development: pkg/shell.js rewritten when a file of the site is newer, and told to
 * prefer the network.
 */
function developmentShell(dir) {
  const shell = join(dir, 'pkg', 'shell.js');
  const stale = !existsSync(shell) || newest(dir) > statSync(shell).mtimeMs;
  if (stale) writeShellManifest(dir);
  return readFileSync(shell, 'utf8') + 'self.NETWORK_FIRST = true;\n';
}

/**
 * The encoding and the file to send for `file` to a browser that sends `accept`: the
 * compressed copy of the first encoding it accepts (in ENCODINGS' order) that exists and is
 * not older than the file; the file itself otherwise.
 */
function encoded(file, accept = '') {
  // `br;q=0` refuses Brotli.
  const accepted = new Set(
    accept
      .split(',')
      .map((e) => e.split(';').map((part) => part.trim()))
      .filter(([, q]) => !/^q=0(\.0*)?$/.test(q ?? ''))
      .map(([name]) => name),
  );
  const modified = statSync(file).mtimeMs;
  for (const [encoding, { suffix }] of Object.entries(ENCODINGS)) {
    const copy = file + suffix;
    if (accepted.has(encoding) && existsSync(copy) && statSync(copy).mtimeMs >= modified) return [encoding, copy];
  }
  return [null, file];
}

/**
 * Starts the server on `dir` (dist/site); resolves to it and its base URL. `log` collects the
 * paths served; `dev` makes it the development server described above, with the edits of
 * `sources` (www/).
 */
export function serve({ port = 8080, host = '127.0.0.1', dir = site, sources = www, log = null, dev = false } = {}) {
  const server = createServer((request, response) => {
    try {
      respond(request, response);
    } catch (error) {
      // A request that fails here (a file removed while it was read) is answered, never left
      // hanging.
      console.error(`${request.url}: ${error.message}`);
      if (!response.headersSent) response.writeHead(500, HEADERS).end(String(error.message));
      else response.destroy(error);
    }
  });
  const respond = (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    log?.push(path);
    if (dev) syncEdits(sources, dir);
    // The site's headers (www/headers.mjs: the CSP, cross-origin isolation, the widget's
    // CORS), and no HTTP caching, so a rebuild shows at once.
    const headers = { ...HEADERS, 'cache-control': 'no-cache' };
    let file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep) && file !== dir) {
      response.writeHead(403, headers).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    // Node scripts (build, serve, shell), the build's tools and the types are not part of the
    // site (dist/site leaves them out; a directory given here may not).
    if (!existsSync(file) || !isServed(dir, file)) {
      response.writeHead(404, headers).end('not found');
      return;
    }
    if (dev && path === '/pkg/shell.js') {
      response.writeHead(200, { ...headers, 'content-type': TYPES['.js'] }).end(developmentShell(dir));
      return;
    }
    const [encoding, body] = encoded(file, request.headers['accept-encoding']);
    response.writeHead(200, {
      ...headers,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(body).size,
      ...(encoding && { 'content-encoding': encoding }),
      vary: 'accept-encoding',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(body).pipe(response);
  };
  return new Promise((done) =>
    server.listen(port, host, () => done({ server, url: `http://${host}:${server.address().port}/` })),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--no-build') && needsBuild()) {
    execFileSync(process.execPath, [join(www, 'build.mjs')], { stdio: 'inherit' });
  }
  const { url } = await serve({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1', dev: true });
  console.log(`Serving ${site} at ${url}, with the edits of ${www}`);
}
