#!/usr/bin/env node
// Builds the web engine into www/pkg/ from the profile in wasm-pack.toml:
//   1. cargo builds the crate for wasm32 twice (profile, target and each module's features and
//      toolchain from the file): the WebGPU module and the CPU module (threads; nightly);
//   2. the wasm-bindgen CLI at the pinned version writes the ES module and TypeScript types
//      (installed with `cargo install` when missing, saying so);
//   3. wasm-opt from npm's binaryen, pinned in www/tools/package-lock.json (installed there
//      with `npm ci` when missing, with mediabunny, which www/vendor/ gets a copy of for
//      www/video.js: vendor.mjs);
//   4. each module's glue and wasm get one content hash in their names, the weights theirs, and
//      build.json and the service worker's shell list are written; dist/npm is the npm
//      package: the JS API (stylizer.js and the worker) and the widget, with their types, and
//      www/pkg's engine and weights, laid out as on the site;
//   5. a Brotli (.br) and a gzip (.gz) copy beside each large file, for www/serve.mjs or a
//      static host to send with Content-Encoding (kept in a cache by content, so unchanged
//      files are compressed once);
//   6. dist/site: the deployable site, what a static host serves and nothing else.
//
//   node www/build.mjs            (STYLE_TRANSFER_WASM_OPT=0 to skip wasm-opt)

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cached, compressFiles } from './compress.mjs';
import { headersFile } from './headers.mjs';
import { isServed, nameEngineFiles, writeShellManifest } from './shell.mjs';
import { copyVendored, MEDIABUNNY } from './vendor.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const profile = parseToml(readFileSync(join(root, 'wasm-pack.toml'), 'utf8'));
const { build, bindgen, package: pkg } = profile;
const wasmOpt = profile['wasm-opt'];

const cacheDir = process.env.STYLE_TRANSFER_CACHE ?? join(homedir(), '.cache', 'style-transfer');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(cacheDir, 'target');
const env = { ...process.env, CARGO_TARGET_DIR: targetDir };
// STYLE_TRANSFER_CARGO_TIMINGS=1: cargo writes its build timing report (cargo-timings/ in the
// target directory), as tests/run.sh's native build does.
const timings = process.env.STYLE_TRANSFER_CARGO_TIMINGS === '1' ? ['--timings'] : [];
const run = (command, args, runEnv = env) => {
  console.error(`$ ${command} ${args.join(' ')}`);
  execFileSync(command, args, { cwd: root, env: runEnv, stdio: 'inherit' });
};

// 1. The crate's two modules (wasm-pack.toml): [webgpu] with the stable toolchain, [cpu] with
//    the nightly one, rebuilding std with atomics, in its own target directory.
const crateManifest = readFileSync(join(root, build.crate, 'Cargo.toml'), 'utf8');
const crateName = crateManifest.match(/^name\s*=\s*"([^"]+)"/m)[1];
const crateVersion = crateManifest.match(/^version\s*=\s*"([^"]+)"/m)[1];
const pinned = crateManifest.match(/wasm-bindgen\s*=\s*"=([^"]+)"/)[1];
if (pinned !== bindgen.version) {
  throw new Error(`wasm-pack.toml pins wasm-bindgen ${bindgen.version} but ${build.crate}/Cargo.toml pins ${pinned}`);
}
const installed = (() => {
  try {
    return execFileSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).split('\n');
  } catch {
    return null; // no rustup: a toolchain that already has the target, or cargo will say so
  }
})();
if (installed && !installed.includes(build.target)) run('rustup', ['target', 'add', build.target]);
const ENGINES = ['webgpu', 'cpu'];
// A module's own toolchain (the CPU module's nightly) with the standard library's source that
// `-Z build-std` compiles; tests/setup.sh installs the same on a test machine.
for (const { toolchain } of ENGINES.map((kind) => profile[kind]).filter((m) => m.toolchain && installed)) {
  const components = (() => {
    try {
      return execFileSync('rustup', ['component', 'list', '--toolchain', toolchain, '--installed'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return null; // the toolchain itself is missing
    }
  })();
  if (components === null) run('rustup', ['toolchain', 'install', toolchain, '--profile', 'minimal']);
  if (!components?.split('\n').some((c) => c.startsWith('rust-src'))) run('rustup', ['component', 'add', 'rust-src', '--toolchain', toolchain]);
}
const wasmFiles = {};
for (const kind of ENGINES) {
  const module = profile[kind];
  const cargoArgs = ['build', '--lib', '-p', crateName, '--target', build.target, '--profile', build.profile, '--no-default-features', '--features', module.features.join(',')];
  let moduleEnv = env;
  let dir = targetDir;
  if (module.toolchain) {
    cargoArgs.unshift(`+${module.toolchain}`);
    // The test command's clippy wrapper is the stable toolchain's, which cannot drive nightly's
    // rustc; the WebGPU module's build lints the same code.
    const { RUSTC_WORKSPACE_WRAPPER, CLIPPY_ARGS, ...rest } = env;
    dir = join(targetDir, `wasm-${kind}`);
    moduleEnv = { ...rest, CARGO_TARGET_DIR: dir, RUSTFLAGS: module.rustflags.join(' ') };
  }
  if (module['build-std']) cargoArgs.push(`-Zbuild-std=${module['build-std']}`);
  run('cargo', [...cargoArgs, ...timings], moduleEnv);
  wasmFiles[kind] = join(dir, build.target, build.profile, `${crateName.replaceAll('-', '_')}.wasm`);
}

// 2. Bindings, with the CLI at exactly the pinned version: the one on PATH, or the one this
//    script installs in the cache (built in its own target directory, so that it never waits
//    for a native build's lock).
const cliRoot = join(cacheDir, 'tools');
const versionOf = (command) => {
  try {
    return execFileSync(command, ['--version'], { env, encoding: 'utf8' }).trim().split(' ')[1];
  } catch {
    return null;
  }
};
let wasmBindgen = [join(cliRoot, 'bin', 'wasm-bindgen'), 'wasm-bindgen'].find((c) => versionOf(c) === bindgen.version);
if (!wasmBindgen) {
  console.error(`wasm-bindgen-cli ${bindgen.version} is needed (found ${versionOf('wasm-bindgen') ?? 'none'}): installing it in ${cliRoot} with cargo, once.`);
  // Without the test command's clippy wrapper (see tests/run.sh): it lints our crate, not tools.
  // Without default features: those are TLS for the test runner's downloads, which the
  // bindings do not use (the output is byte for byte the same; 114 s to install instead of 130).
  const { RUSTC_WORKSPACE_WRAPPER, CLIPPY_ARGS, ...toolEnv } = env;
  run('cargo', ['install', 'wasm-bindgen-cli', '--version', bindgen.version, '--no-default-features', '--root', cliRoot, '--target-dir', join(targetDir, 'tools'), ...timings], toolEnv);
  wasmBindgen = join(cliRoot, 'bin', 'wasm-bindgen');
}
const outDir = join(root, bindgen['out-dir']);
rmSync(outDir, { recursive: true, force: true });
for (const kind of ENGINES) {
  const bindgenArgs = ['--target', bindgen.target, '--out-dir', outDir, '--out-name', profile[kind]['out-name']];
  if (!bindgen.typescript) bindgenArgs.push('--no-typescript');
  run(wasmBindgen, [...bindgenArgs, wasmFiles[kind]]);
}
poolWorkersFromTheirUrl(outDir);

// 3. The npm tools pinned in www/tools (binaryen's wasm-opt; mediabunny, copied to www/vendor/
//    for the site), then size optimisation with wasm-opt. It takes minutes, so its output is
//    kept in the cache under the hash of its input and flags.
const tools = join(root, 'www', 'tools');
const lock = join(tools, 'package-lock.json');
const installedLock = join(tools, 'node_modules', '.package-lock.json');
if (!existsSync(installedLock) || statSync(lock).mtimeMs > statSync(installedLock).mtimeMs) {
  console.error(`installing the build's npm tools (npm ci in ${tools})`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tools, stdio: 'inherit' });
}
copyVendored(join(root, 'www'), join(root, 'www'));
for (const kind of ENGINES) {
  const wasmOut = join(outDir, `${profile[kind]['out-name']}_bg.wasm`);
  if (process.env.STYLE_TRANSFER_WASM_OPT === '1' || (wasmOpt.enabled && process.env.STYLE_TRANSFER_WASM_OPT !== '0')) {
    const bin = join(tools, 'node_modules', '.bin', 'wasm-opt');
    const before = readFileSync(wasmOut);
    const key = createHash('sha256').update(before).update(JSON.stringify(wasmOpt.flags)).update(readFileSync(lock)).digest('hex');
    const path = join(cacheDir, 'wasm-opt', `${key}.wasm`);
    if (existsSync(path)) console.error(`wasm-opt: the ${kind} module's output is in the cache (${path})`);
    copyFileSync(await cached(path, (partial) => run(bin, [...wasmOpt.flags, wasmOut, '-o', partial])), wasmOut);
    console.error(`wasm-opt, ${kind} module: ${(before.length / 1e6).toFixed(1)} MB → ${(statSync(wasmOut).size / 1e6).toFixed(1)} MB`);
  }
}

// 4. Weights under content-hashed names, the build manifest and the npm package: VGG16 for the
//    optimisation, the feed-forward network for the fast start and Quick mode.
const weights = {};
for (const [network, file] of [['vgg', 'vgg16-int8'], ['fast', 'fast-int8']]) {
  const bytes = readFileSync(join(root, 'models', `${file}.safetensors`));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const url = `${file}.${sha256.slice(0, 16)}.safetensors`;
  copyFileSync(join(root, 'models', `${file}.safetensors`), join(outDir, url));
  weights[network] = { url, sha256, bytes: bytes.length };
}
// Each engine's files: its glue and wasm, and the JS snippets its glue imports (the CPU
// module's thread-pool helper, which each pool worker also loads).
const engines = {};
for (const kind of ENGINES) {
  const name = profile[kind]['out-name'];
  const glue = readFileSync(join(outDir, `${name}.js`), 'utf8');
  const snippets = [...glue.matchAll(/from '\.\/(snippets\/[^']+)'/g)].map((m) => m[1]);
  engines[kind] = { name, glue: `${name}.js`, wasm: `${name}_bg.wasm`, snippets };
}
writeFileSync(join(outDir, 'build.json'), JSON.stringify({ engines, weights }));
const manifest = nameEngineFiles(join(root, 'www'));
writeNpmPackage(manifest);
writeShellManifest(join(root, 'www'));

// 5. Compressed copies of the large files (the page's own files are small; a host may still
//    compress them on the fly).
const sizes = await compressFiles(
  outDir,
  [...Object.values(manifest.engines).flatMap((e) => [e.glue, e.wasm]), ...Object.values(weights).map((w) => w.url)],
  join(cacheDir, 'compressed'),
);
sizes.push(...(await compressFiles(join(root, 'www'), [MEDIABUNNY], join(cacheDir, 'compressed'))));
const mb = (n) => (n / 1e6).toFixed(2).padStart(6);
console.error('file                                        raw MB   gz MB   br MB');
for (const { file, raw, gzip, br } of sizes) console.error(`${file.padEnd(42)} ${mb(raw)}  ${mb(gzip)}  ${mb(br)}`);
writeSite();
const engineSizes = Object.entries(manifest.engines).map(([kind, e]) => `${kind} ${(e.bytes / 1e6).toFixed(1)} MB`);
console.error(`built ${outDir}: engines ${engineSizes.join(', ')}, weights ${Object.values(weights).map((w) => w.url).join(', ')}`);

/**
 * wasm-bindgen-rayon's helper (the CPU module's snippet) starts each pool worker from a
 * `blob:` copy of itself, so that it works from a CDN; the site's Content-Security-Policy
 * (`worker-src 'self'`) refuses `blob:` workers. Changed here to start them from the
 * helper's own URL when that is of the worker's origin (the site's page), and from a `blob:`
 * copy only otherwise (the widget on another site, whose host page allows `blob:` workers).
 * Fails the build when the helper no longer reads as expected.
 */
function poolWorkersFromTheirUrl(dir) {
  const blobCopy = /let scriptBlob = await fetch\(import\.meta\.url\)\.then\(r => r\.blob\(\)\);\s*let url = URL\.createObjectURL\(scriptBlob\);/;
  const ownUrl =
    '// Changed by www/build.mjs (poolWorkersFromTheirUrl): its own URL when of this origin.\n' +
    '      let url = new URL(import.meta.url).origin === self.location.origin ? import.meta.url\n' +
    '        : URL.createObjectURL(await fetch(import.meta.url).then(r => r.blob()));';
  const helpers = readdirSync(join(dir, 'snippets'), { recursive: true }).filter((f) => f.endsWith('workerHelpers.no-bundler.js'));
  if (helpers.length !== 1) throw new Error(`expected one wasm-bindgen-rayon helper in ${dir}/snippets, found ${helpers.length}`);
  const path = join(dir, 'snippets', helpers[0]);
  const source = readFileSync(path, 'utf8');
  if (!blobCopy.test(source)) throw new Error(`${path}: the pool's worker start is not as expected; see poolWorkersFromTheirUrl`);
  writeFileSync(path, source.replace(blobCopy, ownUrl));
}

/**
 * dist/site: exactly what a static host serves, the page, the widget, the worker and the JS,
 * the engine, the weights and their compressed copies, the service worker and its file list,
 * the gallery; not the build scripts, the tools or the types (`notServed`).
 */
function writeSite() {
  const www = join(root, 'www');
  const dir = join(root, 'dist', 'site');
  rmSync(dir, { recursive: true, force: true });
  // Timestamps kept: a compressed copy older than its file counts as stale.
  cpSync(www, dir, { recursive: true, preserveTimestamps: true, filter: (path) => isServed(www, path) });
  // The headers to send, for hosts that read them from a file (README, "Deploying").
  writeFileSync(join(dir, '_headers'), headersFile());
  console.error(`wrote ${dir}: the site, to copy to a static host as it is`);
}

/**
 * dist/npm: the package another site installs. The JS API's files and their types at its
 * root, with the widget (`@style-transfer/engine/widget`, which defines `<style-transfer>` on
 * import) and its preset paintings; the engine and the weights in pkg/ beside them, as on the
 * site, so stylizer.js finds them where it looks (`./pkg/build.json`, `./worker.js`).
 */
function writeNpmPackage(manifest) {
  const dir = join(root, 'dist', 'npm');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  mkdirSync(join(dir, 'gallery'));
  const gallery = readdirSync(join(root, 'www', 'gallery')).map((f) => `gallery/${f}`);
  mkdirSync(join(dir, 'vendor'));
  const vendored = [MEDIABUNNY, MEDIABUNNY.replace(/\.js$/, '.LICENSE.txt')];
  const api = ['stylizer.js', 'stylizer.d.ts', 'prepare.js', 'options.js', 'bridge.js', 'video.js', 'camera.js', 'worker.js', 'weights.js', 'images.js', 'masks.js', 'widget.js', 'widget.d.ts', 'gallery.js', 'result.js', ...gallery, ...vendored];
  for (const file of api) copyFileSync(join(root, 'www', file), join(dir, file));
  const engineFiles = Object.values(manifest.engines).flatMap((e) => [e.glue, e.wasm, ...e.snippets]);
  const engine = ['build.json', ...engineFiles, ...Object.values(manifest.weights).map((w) => w.url)];
  for (const file of engine) {
    mkdirSync(dirname(join(dir, 'pkg', file)), { recursive: true });
    copyFileSync(join(outDir, file), join(dir, 'pkg', file));
  }
  const json = {
    name: pkg.name,
    version: crateVersion,
    description: pkg.description,
    license: pkg.license,
    type: 'module',
    exports: {
      '.': { types: './stylizer.d.ts', default: './stylizer.js' },
      './widget': { types: './widget.d.ts', default: './widget.js' },
    },
    types: 'stylizer.d.ts',
    files: [...api, ...engine.map((f) => `pkg/${f}`)],
    sideEffects: ['./widget.js'],
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(json, null, 2) + '\n');
}

/** The subset of TOML that wasm-pack.toml uses: [sections], strings, booleans, string arrays. */
function parseToml(text) {
  const out = {};
  let section = out;
  // Join multi-line arrays onto one line first.
  const lines = text.replace(/\[\s*\n([^\]]*)\]/g, (m) => m.replace(/\n/g, ' ')).split('\n');
  for (const raw of lines) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const header = line.match(/^\[([\w-]+)\]$/);
    if (header) {
      section = out[header[1]] = {};
      continue;
    }
    const [, key, value] = line.match(/^([\w-]+)\s*=\s*(.+)$/) ?? [];
    if (!key) throw new Error(`wasm-pack.toml: cannot read \`${line}\``);
    section[key] = JSON.parse(value);
  }
  return out;
}

