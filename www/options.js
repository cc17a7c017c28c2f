// Options on their way to the engine. The engine checks every value (its one options path,
// crate/src/options/validate.rs); here only what the page needs before handing them over:
// that they are an object, nested no deeper than the engine's reader can name, and that the
// side the pictures are scaled to first is a number.

import { OptionsError } from './bridge.js';

/** Deepest a value may be nested: past 128 levels the engine's JSON reader stops without naming the key. */
export const MAX_DEPTH = 64;

/** Most values a nested option may hold, all levels together (a value that refers to itself grows without end). */
const MAX_VALUES = 100_000;

/** `options` as the engine takes them: {} when left out; an OptionsError naming the key otherwise. */
export function checkedOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    const kind = Array.isArray(options) ? 'an array' : typeof options;
    throw new OptionsError(`invalid option \`options\`: must be an object (got ${kind})`);
  }
  for (const [key, value] of Object.entries(options)) {
    let layer = [value];
    let count = 0;
    for (let depth = 0; layer.length; depth++) {
      count += layer.length;
      if (depth > MAX_DEPTH || count > MAX_VALUES) {
        throw new OptionsError(`invalid option \`${key}\`: nested too deeply or too large for an option`);
      }
      layer = layer.flatMap((v) => (v !== null && typeof v === 'object' ? Object.values(v) : []));
    }
  }
  return options;
}

/**
 * The side in pixels, from option `key`'s `value`, that a picture is scaled to before the
 * engine: `fallback` when it is left out (undefined or null); an OptionsError naming the key
 * when it is not a number of at least 1 (its range is the engine's to judge).
 */
export function side(value, fallback, key = 'size') {
  if (value === undefined || value === null) return fallback;
  if (Number.isFinite(value) && value >= 1) return value;
  throw new OptionsError(`invalid option \`${key}\`: must be a number of pixels, at least 1 (got ${JSON.stringify(value) ?? String(value)})`);
}
