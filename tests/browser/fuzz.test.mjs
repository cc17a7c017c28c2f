// Fuzzed inputs, with a fixed seed and bounded counts so that a run stays fast, and every
// case made from the seed and its own number alone so that a failure can be made again
// (`FUZZ_SEED=<seed> node --test browser/fuzz.test.mjs`; a failure names its case):
// - mutated PNG, JPEG, GIF and WebP files through the page's photo input, which decodes them
//   with images.js: each is shown or refused with a message, never a hang, an uncaught error
//   or a stuck page, and a run still completes after them all;
// - images.js's header reader alone on many mutated headers: a size or null, never a throw;
// - random options objects through the JS API's one options path: an OptionsError naming
//   one of the object's keys, or a run that completes, and the worker stays alive.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { apiPage, blank, choose, fixtureBytes, ready, run, siteUnderTest, tiny } from './harness.mjs';

const SEED = Number(process.env.FUZZ_SEED ?? 20251204);
const FILES = 320;
/** headerSize() is a pure function: many cases, in one call. */
const HEADERS = 20_000;
/** Random options objects, besides a few top-level non-objects. */
const OPTIONS = 100;

/**
 * Case `i`'s random numbers, from the run's seed and `i` (mulberry32), with `int(lo, hi)`
 * and `pick(list)`. Self-contained: the page gets its source too.
 */
function generator(seed, i) {
  let a = (seed ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0;
  const r = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  r.int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  r.pick = (list) => list[Math.floor(r() * list.length)];
  return r;
}

const bytes = (r, n) => Buffer.from(Array.from({ length: n }, () => r.int(0, 255)));
const ascii = (b, at, n) => b.toString('latin1', at, at + n);
const formatOf = (b) => (b[0] === 0x89 ? 'png' : ascii(b, 0, 3) === 'GIF' ? 'gif' : ascii(b, 0, 4) === 'RIFF' ? `webp/${ascii(b, 12, 4)}` : 'jpeg');

/** A copy of `b` declaring `w × h` where images.js's headerSize() reads it. */
function withSize(b, w, h) {
  const c = Buffer.from(b);
  const format = formatOf(c);
  if (format === 'png') {
    c.writeUInt32BE(w >>> 0, 16);
    c.writeUInt32BE(h >>> 0, 20);
  }
  if (format === 'gif') {
    c.writeUInt16LE(w & 0xffff, 6);
    c.writeUInt16LE(h & 0xffff, 8);
  }
  if (format === 'webp/VP8X') {
    c.writeUIntLE((w - 1) & 0xffffff, 24, 3);
    c.writeUIntLE((h - 1) & 0xffffff, 27, 3);
  }
  if (format === 'webp/VP8L') c.writeUInt32LE(((c.readUInt32LE(21) & ~0xfffffff) | ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14)) >>> 0, 21);
  if (format === 'webp/VP8 ') [26, 28].forEach((at, k) => c.writeUInt16LE((c.readUInt16LE(at) & 0xc000) | ([w, h][k] & 0x3fff), at));
  // A JPEG's size is in its first start-of-frame segment.
  for (let at = 2; format === 'jpeg' && at + 9 < c.length && c[at] === 0xff; at += 2 + c.readUInt16BE(at + 2)) {
    if (c[at + 1] >= 0xc0 && c[at + 1] <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(c[at + 1])) {
      c.writeUInt16BE(h & 0xffff, at + 5);
      c.writeUInt16BE(w & 0xffff, at + 7);
      break;
    }
  }
  return c;
}

/** Sizes over the 100-megapixel limit that each header can declare. */
const HUGE = {
  png: [[60000, 60000], [0xffffffff, 0xffffffff], [0x7fffffff, 2], [100_000, 1001]], gif: [[65535, 65535], [60000, 60000], [65535, 1526]],
  jpeg: [[65535, 65535], [60000, 60000], [1526, 65535]], 'webp/VP8 ': [[16383, 16383], [16383, 6200]],
  'webp/VP8L': [[16384, 16384], [6200, 16384]], 'webp/VP8X': [[16777216, 16777216], [60000, 60000]],
};
const MAGIC = [Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('GIF89a'), Buffer.from('ffd8ffe0', 'hex'), Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1')];

/** The mutations: (file, random) → [bytes, what was done]. */
const MUTATIONS = {
  flip(b, r) {
    const c = Buffer.from(b);
    const n = r.int(1, 16);
    // Half of them in the header, where a flip changes what the file says it is.
    for (let k = 0; k < n; k++) c[r() < 0.5 ? r.int(0, Math.min(63, c.length - 1)) : r.int(0, c.length - 1)] ^= 1 << r.int(0, 7);
    return [c, `${n} bits`];
  },
  truncate(b, r) {
    const n = r() < 0.5 ? r.int(1, Math.min(64, b.length - 1)) : r.int(1, b.length - 1);
    return [b.subarray(0, n), `to ${n} of ${b.length} bytes`];
  },
  huge: (b, r) => sized(b, r.pick(HUGE[formatOf(b)])),
  zero: (b, r) => sized(b, r.pick([[0, 16], [16, 0], [0, 0]])),
  magic(b, r) {
    const magic = r() < 0.5 ? r.pick(MAGIC) : bytes(r, r.int(1, 4));
    return [Buffer.concat([magic, b.subarray(magic.length)]), `[${[...magic.subarray(0, 4)]}]`];
  },
  garbage(b, r) {
    const keep = { png: 16, gif: 6, jpeg: 4 }[formatOf(b)] ?? 16;
    const n = r.int(0, 2048);
    return [Buffer.concat([b.subarray(0, keep), bytes(r, n)]), `${n} random bytes after ${keep}`];
  },
  trailing: (b, r) => ((n) => [Buffer.concat([b, bytes(r, n)]), `${n} bytes`])(r.int(1, 4096)),
};
const sized = (b, [w, h]) => [withSize(b, w, h), `${w}×${h}`];

/** Mutated file `i`, as Playwright's file payload, with the `label` that names the case. */
function fileCase(i, seeds) {
  const r = generator(SEED, i);
  const format = ['png', 'jpeg', 'gif', 'webp'][i % 4];
  const [seedName, seed] = r.pick(Object.entries(seeds[format]));
  const kind = r.pick(Object.keys(MUTATIONS));
  const [buffer, detail] = MUTATIONS[kind](seed, r);
  // The right type, a wrong one, none, or (rarely) SVG's, which is refused as such.
  const right = `image/${format}`;
  const mimeType = r.pick([right, right, right, right, 'image/png', 'image/jpeg', 'image/webp', '', '', 'application/octet-stream', 'text/plain', 'image/svg+xml']);
  const label = `file #${i} (seed ${SEED}): ${format}/${seedName} ${kind} ${detail}, type '${mimeType}'`;
  return { name: `case-${i}.${r.pick([format, 'jpg', 'png', 'bin'])}`, mimeType, buffer, kind, label };
}

/** The canvas's PNG, JPEG and WebPs (lossy and lossless, as Chromium writes them and in the simple format). */
async function canvasSeeds(page) {
  const made = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(24, 16);
    const context = canvas.getContext('2d');
    for (let x = 0; x < 24; x++) {
      context.fillStyle = `rgb(${x * 10} 60 ${240 - x * 10})`;
      context.fillRect(x, 0, 1, 16);
    }
    const encode = async (type, quality) => [...new Uint8Array(await (await canvas.convertToBlob({ type, quality })).arrayBuffer())];
    return [await encode('image/png'), await encode('image/jpeg', 0.9), await encode('image/webp', 0.8), await encode('image/webp', 1)];
  });
  const [png, jpeg, lossy, lossless] = made.map((b) => Buffer.from(b));
  // Chromium writes VP8X (with an ICC profile); the VP8 or VP8L chunk alone is the simple format.
  const simple = (b) => {
    for (let at = 12; at + 8 <= b.length; at += 8 + ((b.readUInt32LE(at + 4) + 1) & ~1)) {
      if (!['VP8 ', 'VP8L'].includes(ascii(b, at, 4))) continue;
      const chunk = b.subarray(at, at + 8 + b.readUInt32LE(at + 4));
      const head = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
      head.writeUInt32LE(4 + chunk.length, 4);
      return Buffer.concat([head, chunk]);
    }
    throw new Error('no VP8 or VP8L chunk in the WebP');
  };
  return { png, jpeg, webp: { vp8x: lossy, vp8xLossless: lossless, vp8: simple(lossy), vp8l: simple(lossless) } };
}

/**
 * Random options from `r` over the engine's keys (those of `defaults`): [options, kind].
 * 'valid' sets a few keys in range; 'wrong' also gives keys wrong types, extreme numbers,
 * NaN and Infinity (as numbers and as strings), huge arrays and strings; 'unknown' adds a key
 * the engine does not have ('__proto__' and 'constructor' among them, as own keys); 'deep' a
 * value nested 50–200 deep. Runtime stays bounded: every object asks for `size` 16–32 and
 * `iterations` 0–3 unless a wrong value replaces them. Self-contained: it runs in the page.
 */
function randomOptions(r, defaults) {
  const layers = ['relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1', 'relu3_2', 'relu3_3', 'relu4_1', 'relu4_2', 'relu4_3', 'relu5_1'];
  const enums = {
    init: ['fast', 'content', 'noise'], optimizer: ['lbfgs', 'adam'], colors: ['painting', 'photo', 'luminance', 'match'],
    contentLayer: layers, styleLoss: ['gram', 'wasserstein'], styleLayerWeights: ['equal', 'coarse-to-fine'],
    padding: ['zero', 'replicate', 'reflect'], pooling: ['max', 'average'], styleFilter: ['triangle', 'lanczos3'],
  };
  const ranges = {
    size: [16, 32], iterations: [0, 3], minScale: [16, 64], seed: [0, 2 ** 32 - 1], lbfgsHistory: [1, 20], previewEvery: [0, 2],
    memoryBudget: [128, 4096], contentWeight: [0, 1e4], styleWeight: [0, 1e4], tvWeight: [0, 1], styleScale: [0.25, 2],
    scaleStep: [1.1, 2], fastStrength: [0, 1], fastMix: [0, 1], frameStability: [0, 1], learningRate: [0.001, 1], averageDecay: [0, 0.99],
  };
  const valid = (key) => {
    if (enums[key]) return r.pick(enums[key]);
    if (key === 'styleLayers') return Array.from({ length: r.int(1, 5) }, () => [r.pick(layers), r() * 2]);
    const [lo, hi] = ranges[key];
    return Number.isInteger(defaults[key]) && Number.isInteger(lo) ? r.int(lo, hi) : lo + r() * (hi - lo);
  };
  const nest = (depth) => {
    let v = r.pick([1, 'x', null, [], {}]);
    for (let d = 0; d < depth; d++) v = r() < 0.5 ? [v] : { a: v };
    return v;
  };
  const weird = () => r.pick([
    NaN, Infinity, -Infinity, 'NaN', 'Infinity', '-Infinity', -0, 1e308, -1e308, 2 ** 32, 2 ** 53 + 2, -1, 0.5, 1e-320, 3.5e38,
    '', '16', 'x'.repeat(10_000), true, null, [], {}, [[]], { size: 16 }, Array(10_000).fill(1), Array(1000).fill(['relu1_1', 1]),
  ]);
  const keys = Object.keys(defaults);
  const options = { size: valid('size'), iterations: valid('iterations') };
  for (let n = r.int(0, 4); n > 0; n--) {
    const key = r.pick(keys);
    options[key] = valid(key);
  }
  const kind = r.pick(['valid', 'valid', 'wrong', 'wrong', 'wrong', 'unknown', 'deep']);
  if (kind === 'wrong') for (let n = r.int(1, 3); n > 0; n--) options[r.pick(keys)] = weird();
  const unknown = r.pick(['__proto__', 'constructor', 'toString', 'styleWieght', 'Size', '', 'size ', 'prototype']);
  if (kind === 'unknown') Object.defineProperty(options, unknown, { value: r.pick([1, weird()]), enumerable: true, writable: true, configurable: true });
  if (kind === 'deep') options[r.pick([...keys, 'nested'])] = nest(r.int(50, 200));
  return [options, kind];
}

describe(`fuzzed inputs (seed ${SEED})`, () => {
  const under = siteUnderTest(blank);

  test(`${FILES} mutated PNG, JPEG, GIF and WebP files are shown or refused with a message, and the page keeps working`, { timeout: 240_000 }, async () => {
    const page = await under.browser.page();
    await ready(page);
    const canvas = await canvasSeeds(page);
    const seeds = {
      png: { painting: fixtureBytes('painting.png'), canvas: canvas.png },
      jpeg: { photo: fixtureBytes('photo.jpg'), cmyk: fixtureBytes('cmyk.jpg'), canvas: canvas.jpeg },
      // The two-frame fixture and the classic one-pixel GIF.
      gif: { animated: fixtureBytes('animated.gif'), pixel: Buffer.from('47494638396101000100800000000000ffffff2c00000000010001000002024401003b', 'hex') },
      webp: canvas.webp,
    };
    const problems = [];
    // Each case replaces a marker in the message box: the page hides the box when it shows
    // the picture, or puts why not in it.
    const MARKER = 'waiting for the fuzz case';
    for (let i = 0; i < FILES; i++) {
      const c = fileCase(i, seeds);
      const errors = under.browser.errors.length;
      await page.evaluate((text) => Object.assign(document.getElementById('message'), { textContent: text, hidden: false }), MARKER);
      await page.setInputFiles('#content-input', { name: c.name, mimeType: c.mimeType, buffer: c.buffer });
      const outcome = await page
        .waitForFunction((text) => document.getElementById('message').hidden || document.getElementById('message').textContent !== text, MARKER, { timeout: 10_000 })
        .then(() => page.evaluate(() => {
          const preview = document.getElementById('content-preview');
          return document.getElementById('message').hidden ? { width: preview.width, height: preview.height } : { message: document.getElementById('message').textContent };
        }), () => ({ stuck: true }));
      if (outcome.stuck) {
        problems.push(`${c.label}: neither a picture nor a message within 10 s`);
        break; // a stuck page would not answer the next case either
      }
      if (outcome.width !== undefined && !(outcome.width >= 1 && outcome.height >= 1)) problems.push(`${c.label}: shown at ${outcome.width}×${outcome.height}`);
      // A refusal is one of images.js's own messages, not an error of the code on the way.
      else if (outcome.message !== undefined && !/^The photo (file|image) /.test(outcome.message)) problems.push(`${c.label}: "${outcome.message}"`);
      // A size over the limit is refused from the header, before the browser decodes it.
      else if (c.kind === 'huge' && c.mimeType !== 'image/svg+xml' && !/too large/.test(outcome.message)) problems.push(`${c.label}: not refused from its header: ${JSON.stringify(outcome)}`);
      if (under.browser.errors.length > errors) problems.push(`${c.label}: ${under.browser.errors.slice(errors).join('; ')}`);
    }
    assert.deepEqual(problems, []);
    // The page still works: the real photo and painting, and a tiny run to the end.
    await page.evaluate(() => (document.getElementById('message').hidden = true));
    await choose(page);
    await tiny(page, 32, 2);
    assert.match(await run(page), /^Done: 2 steps/);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });

  test(`images.js's headerSize() on ${HEADERS} mutated headers gives a size or null, and never throws`, async () => {
    const page = await under.browser.page('blank.html');
    const headers = ['painting.png', 'photo.jpg', 'cmyk.jpg', 'animated.gif'].map((name) => fixtureBytes(name).subarray(0, 2048));
    const seeds = [...headers, ...Object.values((await canvasSeeds(page)).webp)].map((b) => [...b]);
    await page.evaluate(`window.generator = ${generator}`);
    const result = await page.evaluate(async ({ seed, count, seeds }) => {
      const { headerSize } = await import('/images.js');
      const r = generator(seed, -1);
      const failures = [];
      for (let k = 0; k < count; k++) {
        const from = r.pick(seeds);
        // Mostly cut within the first 64 bytes, where every format's size is.
        const head = Uint8Array.from(from.slice(0, r.int(0, r() < 0.7 ? Math.min(64, from.length) : from.length)));
        for (let n = head.length && r.int(0, 8); n > 0; n--) head[r.int(0, head.length - 1)] ^= 1 << r.int(0, 7);
        if (r() < 0.2 && head.length > 24) head.set(Array.from({ length: 8 }, () => r.int(0, 255)), r.int(0, head.length - 8));
        // Inside a larger buffer: the reader must keep to its view's offset and length.
        const offset = r.int(0, 7);
        const buffer = new Uint8Array(offset + head.length + r.int(0, 7)).fill(0xff);
        buffer.set(head, offset);
        try {
          const size = headerSize(buffer.subarray(offset, offset + head.length));
          const whole = (n) => Number.isInteger(n) && n >= 0;
          if (size !== null && !(whole(size.width) && whole(size.height))) failures.push(`header ${k}: ${JSON.stringify(size)} from [${head}]`);
        } catch (error) {
          failures.push(`header ${k}: ${error.name}: ${error.message} on [${head}]`);
        }
      }
      // Unchanged, each header gives its picture's size.
      return { exact: seeds.map((b) => headerSize(new Uint8Array(b))), failures };
    }, { seed: SEED, count: HEADERS, seeds });
    const sizes = [[160, 160], [160, 106], [48, 32], [8, 6], [24, 16], [24, 16], [24, 16], [24, 16]];
    assert.deepEqual(result.exact, sizes.map(([width, height]) => ({ width, height })));
    assert.deepEqual(result.failures.slice(0, 10), [], `seed ${SEED}: ${result.failures.length} failures`);
    await page.close();
  });

  test(`${OPTIONS} random options objects: an OptionsError naming one of their keys, or a run that completes`, { timeout: 240_000 }, async () => {
    const { page } = await apiPage(under.browser, { photo: [32, 32], painting: [32, 32] });
    await page.evaluate(`window.generator = ${generator}; window.randomOptions = ${randomOptions}`);
    await page.evaluate(async () => {
      window.starts = 0;
      window.stylizer = await api.createStylizer({ backend: 'cpu', onStatus: (s) => s.stage === 'starting' && starts++ });
      // The options as text for a report: NaN, ±Infinity and -0 spelled out, deep and long values cut.
      const depth = (x) => (x instanceof Object ? 1 + Math.max(0, ...Object.values(x).slice(0, 8).map(depth)) : 0);
      const spelled = (key, x) =>
        (typeof x === 'number' && !Number.isFinite(x)) || Object.is(x, -0) ? String(x)
          : key && x instanceof Object && depth(x) > 4 ? `(nested ${depth(x)} deep)`
          : x?.length > 40 ? `(${typeof x} of length ${x.length})` : x;
      /** One stylize() with `options`; a run bigger than any case asks for is stopped at its first report. */
      window.attempt = async (options) => {
        const guard = new AbortController();
        let ranAt = null;
        const onProgress = (p) => Math.max(p.width, p.height) > 32 && guard.abort((ranAt = `${p.width}×${p.height} px`));
        const signal = AbortSignal.any([guard.signal, AbortSignal.timeout(20_000)]);
        const { value, ...result } = await settle(stylizer.stylize({ content: photo, styles: [{ image: painting }], options, onProgress, signal }));
        const keys = options instanceof Object && !Array.isArray(options) ? Object.keys(options) : null;
        return { ...result, ranAt, keys, shown: JSON.stringify(options, spelled) };
      };
    });
    const problems = [];
    const stopped = [];
    // And a few that are not objects at all: an OptionsError about `options` (null is
    // options left out, as in the engine).
    const notObjects = ['42', '"abc"', '[]', 'true'];
    for (let i = 0; i < OPTIONS + notObjects.length; i++) {
      const r = await page.evaluate(async ([seed, i, text]) => {
        const [options, kind] = text ? [JSON.parse(text), 'not an object'] : randomOptions(generator(seed, 1000 + i), stylizer.defaults);
        return { label: `options #${i} (seed ${seed}, ${kind})`, ...(await attempt(options)) };
      }, [SEED, i, notObjects[i - OPTIONS]]);
      const what = `${r.label} ${r.shown}`;
      const named = /^invalid option `([^`]*)`/.exec(r.message)?.[1].split(/[.[]/)[0];
      if (r.ranAt) {
        stopped.push(i);
        problems.push(`${what}: not refused, ran at ${r.ranAt}`);
      } else if (!r.ok && r.name !== 'OptionsError') problems.push(`${what}: ${r.name}: ${r.message}`);
      else if (!r.ok && !(r.keys ?? ['options']).includes(named)) problems.push(`${what}: the error names none of its keys: ${r.message.slice(0, 120)}`);
      // The worker lives on: a small valid run now and then, and at the end.
      if (i % 10 === 9 || i === OPTIONS + notObjects.length - 1) {
        const check = await page.evaluate(() => attempt({ size: 16, iterations: 1 }));
        if (!check.ok) problems.push(`after ${r.label}: a valid run failed: ${check.name}: ${check.message}`);
      }
    }
    // One engine start, and one more after each run this test stopped itself.
    const starts = await page.evaluate(() => starts);
    if (starts !== 1 + stopped.length) problems.push(`the engine started ${starts} times, after ${stopped.length} runs stopped`);
    assert.deepEqual(problems, []);
    assert.deepEqual(under.browser.errors, []);
    await page.close();
  });
});
