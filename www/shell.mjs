// The app shell for the service worker (www/sw.js): used by www/build.mjs and by the tests.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes www/pkg/shell.js, which the service worker imports: the app-shell files it caches at
 * install, and a version that is a hash of every file the app is made of (the wasm included,
 * though the wasm itself is cached on first use, not at install). A new build with any change
 * gives a new version, so the browser sees a changed service worker and offers the update.
 */
export function writeShellManifest(www) {
  const shell = readdirSync(www)
    .filter((f) => /\.(html|js|css|svg|png|webmanifest)$/.test(f) && f !== 'sw.js')
    .sort();
  const pkgFiles = ['style_transfer.js', 'build.json'];
  const hash = createHash('sha256');
  const manifest = JSON.parse(readFileSync(join(www, 'pkg', 'build.json'), 'utf8'));
  for (const file of [...shell, ...pkgFiles.map((f) => `pkg/${f}`), `pkg/${manifest.wasm.file}`]) {
    hash.update(file).update(readFileSync(join(www, file)));
  }
  const version = hash.digest('hex').slice(0, 16);
  const files = ['./', ...shell, ...pkgFiles.map((f) => `pkg/${f}`)];
  writeFileSync(
    join(www, 'pkg', 'shell.js'),
    `// Written by www/build.mjs: the app shell the service worker caches, and its version.\n` +
      `self.SHELL_VERSION = ${JSON.stringify(version)};\n` +
      `self.SHELL_FILES = ${JSON.stringify(files)};\n` +
      `self.WASM_FILE = ${JSON.stringify(`pkg/${manifest.wasm.file}`)};\n` +
      `self.WEIGHTS_FILE = ${JSON.stringify(`pkg/${manifest.weights.url}`)};\n`,
  );
  return version;
}

