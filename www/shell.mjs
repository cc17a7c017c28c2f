// The app shell for the service worker (www/sw.js): used by www/build.mjs, www/serve.mjs and
// the tests.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const sha256 = (...parts) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash;
};

/**
 * Whether a path under www/ (relative, with '/') is part of the build rather than the site:
 * the Node scripts, the build's tools, the API's TypeScript types (for the npm package) and
 * git's files. dist/site leaves these out, and the development server answers 404 for them.
 */
export function notServed(path) {
  return /\.(mjs|d\.ts)$/.test(path) || path === 'tools' || path.startsWith('tools/') || path.endsWith('.gitignore');
}

/** Whether `path`, a file or folder at or under `dir`, is part of the site (`notServed`). */
export function isServed(dir, path) {
  const inside = relative(dir, path).split(sep).join('/');
  return inside === '' || !notServed(inside);
}

/**
 * Gives each engine module's JS glue and wasm in www/pkg one content hash in their names
 * (`engine_cpu.<hash>.js`, `engine_cpu_bg.<hash>.wasm`) and records them in build.json: a
 * page, a worker or a cache can then never pair the glue of one build with the wasm of
 * another. Run after every change to either file.
 */
export function nameEngineFiles(www) {
  const pkg = join(www, 'pkg');
  const manifest = JSON.parse(readFileSync(join(pkg, 'build.json'), 'utf8'));
  for (const [kind, engine] of Object.entries(manifest.engines)) {
    const { name, glue, wasm } = engine;
    const wasmBytes = readFileSync(join(pkg, wasm));
    const hash = sha256(readFileSync(join(pkg, glue)), wasmBytes).digest('hex').slice(0, 16);
    const named = { glue: `${name}.${hash}.js`, wasm: `${name}_bg.${hash}.wasm` };
    for (const file of ['glue', 'wasm']) {
      if (engine[file] !== named[file]) renameSync(join(pkg, engine[file]), join(pkg, named[file]));
    }
    manifest.engines[kind] = { ...engine, ...named, bytes: wasmBytes.length };
  }
  writeFileSync(join(pkg, 'build.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/**
 * Writes www/pkg/shell.js, which the service worker imports: the files it caches at install
 * — the page's own files, the gallery and the build manifest — and each engine module's files
 * by kind (`webgpu`, `cpu`), of which it caches at install the one this browser runs and the
 * other only if the engine's worker ever loads it (a visitor with WebGPU never downloads the
 * CPU module), each with its SHA-256 as a subresource-integrity string, so the cache never
 * holds a mix of two deploys; and a version that is a hash of all of them, so any change gives
 * a changed service worker and the update prompt.
 */
export function writeShellManifest(www) {
  const manifest = JSON.parse(readFileSync(join(www, 'pkg', 'build.json'), 'utf8'));
  const own = readdirSync(www)
    .filter((f) => /\.(html|js|css|svg|png|webmanifest)$/.test(f) && f !== 'sw.js')
    .sort();
  // The preset paintings: small, and needed to try the app at all.
  const gallery = readdirSync(join(www, 'gallery')).filter((f) => f.endsWith('.jpg')).sort();
  const files = [
    ['./', 'index.html'],
    ...own.map((f) => [f, f]),
    ...gallery.map((f) => [`gallery/${f}`, `gallery/${f}`]),
    // Video files offline too (mediabunny, 144 KB with Brotli; www/vendor.mjs).
    ['vendor/mediabunny.js', 'vendor/mediabunny.js'],
    ['pkg/build.json', 'pkg/build.json'],
  ];
  const version = createHash('sha256');
  const integrity = ([url, path]) => {
    const bytes = readFileSync(join(www, path));
    version.update(url).update(bytes);
    return { url, integrity: `sha256-${sha256(bytes).digest('base64')}` };
  };
  const shell = files.map(integrity);
  const engines = Object.fromEntries(
    Object.entries(manifest.engines).map(([kind, e]) => [kind, [e.glue, e.wasm, ...e.snippets].map((f) => integrity([`pkg/${f}`, `pkg/${f}`]))]),
  );
  const versionHex = version.digest('hex').slice(0, 16);
  writeFileSync(
    join(www, 'pkg', 'shell.js'),
    `// Written by www/shell.mjs: the app shell the service worker caches, and its version.\n` +
      `self.SHELL_VERSION = ${JSON.stringify(versionHex)};\n` +
      `self.SHELL_FILES = ${JSON.stringify(shell, null, 1)};\n` +
      `self.ENGINE_FILES = ${JSON.stringify(engines, null, 1)};\n` +
      `self.WEIGHTS_FILES = ${JSON.stringify(Object.values(manifest.weights).map((w) => `pkg/${w.url}`))};\n`,
  );
  return versionHex;
}
