// The JavaScript API: one stylizer, its engine in a module Web Worker.
//
//   import { createStylizer } from './stylizer.js';
//   const stylizer = await createStylizer({ backend: 'auto', onStatus });
//   const result = await stylizer.stylize({ content, styles: [{ image, weight }], options, onProgress, signal });
//   stylizer.dispose();
//
// The main thread only decodes and scales images and passes messages; the optimisation runs in
// the worker. Cancelling terminates the worker (the only way to stop a running wasm call); the
// next call starts a fresh one.

import { loadWeights } from './weights.js';

/** Defaults of the API (the engine's own defaults apply to options left out). */
export const DEFAULTS = Object.freeze({
  backend: 'auto',
  /** Longer side of the output, in pixels. */
  size: 384,
});

/** A run was cancelled through its AbortSignal. */
export class AbortError extends Error {
  constructor() {
    super('The stylization was cancelled.');
    this.name = 'AbortError';
  }
}

/** The engine failed: a bad option, a lost GPU device, a crash in the worker. */
export class EngineError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EngineError';
  }
}

/** An input could not be used as an image. */
export class ImageInputError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ImageInputError';
  }
}

const build = new URL('./pkg/build.json', import.meta.url);

/**
 * Downloads (or takes from the cache) the weights, checks them, and starts the engine.
 * @param {{weightsUrl?: string, sha256?: string, backend?: 'auto'|'webgpu'|'cpu',
 *          onStatus?: (status: object) => void, workerUrl?: string|URL}} settings
 */
export async function createStylizer(settings = {}) {
  const onStatus = settings.onStatus ?? (() => {});
  let { weightsUrl, sha256 } = settings;
  if (!weightsUrl || !sha256) {
    const manifest = await (await fetch(build)).json();
    weightsUrl ??= new URL(manifest.weights.url, build).href;
    sha256 ??= manifest.weights.sha256;
  }
  const weights = await loadWeights(weightsUrl, sha256, (loaded, total, cached) =>
    onStatus({ stage: 'weights', loaded, total, cached }),
  );
  const stylizer = new Stylizer(weights, settings.backend ?? DEFAULTS.backend, onStatus, settings.workerUrl);
  await stylizer.start();
  return stylizer;
}

class Stylizer {
  #weights;
  #backend;
  #onStatus;
  #workerUrl;
  #worker = null;
  #ready = null;
  #busy = false;
  /** 'webgpu' or 'cpu', once the engine runs. */
  backend = null;

  constructor(weights, backend, onStatus, workerUrl) {
    this.#weights = weights;
    this.#backend = backend;
    this.#onStatus = onStatus;
    this.#workerUrl = workerUrl ?? new URL('./worker.js', import.meta.url);
  }

  /** Starts the worker and the engine if they are not running. */
  start() {
    if (this.#ready) return this.#ready;
    this.#onStatus({ stage: 'starting' });
    const worker = spawnWorker(this.#workerUrl);
    this.#worker = worker;
    this.#ready = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.type === 'ready') {
          this.backend = data.backend;
          this.#onStatus({ stage: 'ready', backend: data.backend });
          resolve();
        } else if (data.type === 'error') {
          this.#stop();
          reject(new EngineError(data.message));
        }
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        this.#stop();
        reject(new EngineError(event.message || 'the engine worker failed to start'));
      };
    });
    // A copy: the weights stay here for the next worker.
    worker.postMessage({ type: 'init', weights: this.#weights.slice(0), backend: this.#backend });
    return this.#ready;
  }

  #stop() {
    this.#worker?.terminate();
    this.#worker = null;
    this.#ready = null;
  }

  /**
   * Runs one stylization.
   * @param {{content: ImageBitmap|ImageData|Blob, styles: {image: ImageBitmap|ImageData|Blob, weight?: number}[],
   *          options?: object, onProgress?: (progress: object) => void, signal?: AbortSignal}} request
   */
  async stylize({ content, styles, options = {}, onProgress = () => {}, signal } = {}) {
    if (this.#busy) throw new EngineError('a stylization is already running on this stylizer');
    if (!styles?.length) throw new ImageInputError('Add at least one style image.');
    signal?.throwIfAborted?.();
    this.#busy = true;
    try {
      const size = options.size ?? DEFAULTS.size;
      const styleSide = Math.round(size * (options.styleScale ?? 1));
      const contentPixels = await toPixels(content, 'content', size);
      const stylePixels = [];
      for (const [i, style] of styles.entries()) {
        const image = await toPixels(style.image, `style ${i + 1}`, Math.max(styleSide, 16));
        stylePixels.push({ image, weight: style.weight ?? 1 });
      }
      signal?.throwIfAborted?.();
      await this.start();
      return await this.#run(contentPixels, stylePixels, { ...options, size }, onProgress, signal);
    } catch (error) {
      if (signal?.aborted) throw new AbortError();
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  #run(content, styles, options, onProgress, signal) {
    const worker = this.#worker;
    const started = performance.now();
    let firstDone = null;
    let lastProgress = null;
    return new Promise((resolve, reject) => {
      const abort = () => {
        this.#stop();
        reject(new AbortError());
      };
      signal?.addEventListener('abort', abort, { once: true });
      const finish = () => signal?.removeEventListener('abort', abort);
      worker.onmessage = ({ data }) => {
        if (data.type === 'progress') {
          const now = performance.now();
          const p = data.progress;
          if (p.iteration === 1) firstDone = now;
          lastProgress = { iteration: p.iteration, time: now };
          if (p.image) p.image = new ImageData(p.image.data, p.image.width, p.image.height);
          onProgress(p);
        } else if (data.type === 'done') {
          finish();
          const r = data.result;
          const steady = lastProgress && firstDone && lastProgress.iteration > 1
            ? (lastProgress.time - firstDone) / (lastProgress.iteration - 1)
            : (performance.now() - started) / Math.max(1, r.iterations);
          resolve({
            image: new ImageData(r.data, r.width, r.height),
            backend: this.backend,
            iterations: r.iterations,
            msPerIteration: steady,
            losses: r.losses,
          });
        } else if (data.type === 'error') {
          finish();
          // The wasm instance may be unusable after a failure (a panic aborts): start afresh.
          this.#stop();
          reject(new EngineError(data.message));
        }
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        finish();
        this.#stop();
        reject(new EngineError(event.message || 'the engine worker crashed'));
      };
      const transfer = [content.data.buffer, ...styles.map((s) => s.image.data.buffer)];
      worker.postMessage({ type: 'stylize', content, styles, options }, transfer);
    });
  }

  /** Ends the worker and frees the engine's memory. */
  dispose() {
    this.#stop();
  }
}

/**
 * A module worker running `url`. `new Worker` only takes same-origin URLs, so a page on
 * another origin (the widget embedded elsewhere) starts it through a `blob:` module that
 * imports the real script; inside, every URL still resolves against the script's own.
 */
function spawnWorker(url) {
  const href = new URL(url, location.href);
  if (href.origin === location.origin) return new Worker(href, { type: 'module' });
  const source = `import ${JSON.stringify(href.href)};`;
  const blob = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(blob, { type: 'module' });
  URL.revokeObjectURL(blob);
  return worker;
}

/** Largest picture accepted before scaling, in pixels (the browser decodes it first). */
const MAX_PIXELS = 100_000_000;

/**
 * An image as `{width, height, data}` (RGBA bytes), scaled down so its longer side is at most
 * `maxSide` (never up: the engine does the exact resize).
 */
export async function toPixels(source, what, maxSide) {
  let bitmap = source;
  if (source instanceof Blob) bitmap = await decode(source, what);
  else if (!(source instanceof ImageBitmap || source instanceof ImageData)) {
    throw new ImageInputError(`The ${what} image must be an ImageBitmap, ImageData or Blob.`);
  }
  checkSize(bitmap, what);
  const { width, height } = bitmap;
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = new OffscreenCanvas(w, h);
  // CPU-backed: reading pixels back must not wait on a GPU process busy with the engine.
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.imageSmoothingQuality = 'high';
  if (bitmap instanceof ImageData) {
    if (scale === 1) return { width, height, data: new Uint8ClampedArray(bitmap.data) };
    context.drawImage(await createImageBitmap(bitmap), 0, 0, w, h);
  } else {
    context.drawImage(bitmap, 0, 0, w, h);
  }
  const pixels = context.getImageData(0, 0, w, h);
  return { width: w, height: h, data: pixels.data };
}

/** Decodes a file with the browser (EXIF orientation respected; an animation's first frame). */
export async function decode(blob, what = 'chosen') {
  if (blob.size === 0) throw new ImageInputError(`The ${what} file is empty.`);
  if (blob.type === 'image/svg+xml') {
    throw new ImageInputError(`The ${what} file is an SVG drawing; save it as PNG or JPEG first.`);
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new ImageInputError(
      `The ${what} file is not an image this browser can read (corrupt, too large, or not a JPEG, PNG, WebP, GIF or AVIF).`,
    );
  }
  checkSize(bitmap, what);
  return bitmap;
}

function checkSize({ width, height }, what) {
  if (!width || !height) throw new ImageInputError(`The ${what} image is empty.`);
  if (width * height > MAX_PIXELS) {
    throw new ImageInputError(
      `The ${what} image is too large (${width}×${height}); the limit is ${MAX_PIXELS / 1e6} megapixels.`,
    );
  }
}
