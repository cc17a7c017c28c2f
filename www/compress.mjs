// Brotli and gzip copies of the build's large files, written beside them (`file.br`,
// `file.gz`) for www/serve.mjs or any static host to send with Content-Encoding.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Each encoding: its file suffix and how to make it (the strongest settings: done once per file). */
export const ENCODINGS = {
  br: {
    suffix: '.br',
    compress: (bytes) =>
      brotli(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
  },
  gzip: { suffix: '.gz', compress: (bytes) => gz(bytes, { level: constants.Z_BEST_COMPRESSION }) },
};

/**
 * The file at `path`, made by `make(partial)` (which writes `partial`) when it is not there
 * yet: the build's cache of slow outputs, keyed by content in their names. Written under a
 * temporary name first, so an interrupted build never leaves half a file behind.
 */
export async function cached(path, make) {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  await make(partial);
  renameSync(partial, path);
  return path;
}

/**
 * Writes `name.br` and `name.gz` beside each of `names` in `dir`. A copy is made once per
 * content: `cache` keeps them under the file's SHA-256 (Brotli at its best setting takes a
 * minute on the wasm). Resolves to `[{file, raw, br, gzip}]`, the sizes in bytes.
 */
export async function compressFiles(dir, names, cache) {
  // In parallel: zlib's work runs on libuv's thread pool.
  return Promise.all(
    names.map(async (file) => {
      const bytes = readFileSync(join(dir, file));
      const hash = createHash('sha256').update(bytes).digest('hex');
      const sizes = { file, raw: bytes.length };
      for (const [encoding, { suffix, compress }] of Object.entries(ENCODINGS)) {
        const copy = await cached(join(cache, hash + suffix), async (partial) => writeFileSync(partial, await compress(bytes)));
        copyFileSync(copy, join(dir, file + suffix));
        sizes[encoding] = statSync(copy).size;
      }
      return sizes;
    }),
  );
}
