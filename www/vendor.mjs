// Third-party files the site serves as they come from npm, pinned in www/tools/package-lock.json:
// used by www/build.mjs and the tests.

import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the site serves mediabunny's single-file ES module (www/video.js imports it from there). */
export const MEDIABUNNY = 'vendor/mediabunny.js';

/**
 * Copies mediabunny (reading and writing video files for www/video.js) from www/tools'
 * node_modules into `siteDir`: its minified single-file ES module bundle as
 * `vendor/mediabunny.js` (a `.js` name: `.mjs` files are build scripts, never served), and its
 * licence, the MPL 2.0, as `vendor/mediabunny.LICENSE.txt`, headed by the version and where its
 * source is. Throws when the package is missing or is not the version pinned in
 * www/tools/package.json (then `npm ci` in www/tools). Returns the bundle's path.
 */
export function copyVendored(www, siteDir) {
  const tools = join(www, 'tools');
  const pinned = JSON.parse(readFileSync(join(tools, 'package.json'), 'utf8')).devDependencies.mediabunny;
  const pkg = join(tools, 'node_modules', 'mediabunny');
  const bundle = join(pkg, 'dist', 'bundles', 'mediabunny.min.mjs');
  const licence = join(pkg, 'LICENSE');
  const missing = [join(pkg, 'package.json'), bundle, licence].filter((path) => !existsSync(path));
  if (missing.length) {
    throw new Error(`mediabunny ${pinned} is not installed (missing ${missing.join(', ')}): run \`npm ci\` in ${tools}`);
  }
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  if (version !== pinned) {
    throw new Error(`${tools} pins mediabunny ${pinned} but node_modules has ${version}: run \`npm ci\` in ${tools}`);
  }
  const out = join(siteDir, MEDIABUNNY);
  mkdirSync(join(out, '..'), { recursive: true });
  copyFileSync(bundle, out);
  writeFileSync(
    out.replace(/\.js$/, '.LICENSE.txt'),
    `mediabunny ${version} (vendor/mediabunny.js: dist/bundles/mediabunny.min.mjs of the npm package),\n` +
      `by Vanilagy and contributors, under the Mozilla Public License 2.0 below.\n` +
      `Source code: https://github.com/Vanilagy/mediabunny and https://www.npmjs.com/package/mediabunny/v/${version}\n\n` +
      readFileSync(licence, 'utf8'),
  );
  return out;
}
