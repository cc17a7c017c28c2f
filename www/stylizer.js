// The JavaScript API: one stylizer, its engine in a module Web Worker behind one bridge.
//
//   import { createStylizer } from './stylizer.js';
//   const stylizer = await createStylizer({ backend: 'auto', onStatus, signal });
//   const result = await stylizer.stylize({ content, styles: [{ image, blend }], options, onProgress, signal });
//   stylizer.dispose();
//
// The main thread only decodes and scales images and passes messages; the optimisation runs in
// the worker. Calls to stylize() run one at a time, in call order. Cancelling a running call
// terminates the worker (the only way to stop a running wasm call); the next call starts a
// fresh one. Every promise settles: a cancel, dispose() or a crashed worker rejects what is
// pending with one of the error classes below.

import { decode, ImageInputError, toPixels } from './images.js';
import { isMask, maskPixels } from './masks.js';
import { onTheWire } from './weights.js';
import { prepare } from './prepare.js';
import { AbortError, Bridge, EngineError, OptionsError, reasonOf, untilAborted } from './bridge.js';
import { checkedOptions, side } from './options.js';
import { stylizeVideo, VideoInputError } from './video.js';

export { AbortError, decode, EngineError, ImageInputError, OptionsError, toPixels, VideoInputError };

/**
 * Downloads (or takes from the cache) the weights, checks them, and starts the engine.
 * `onStatus` gets {stage: 'weights', loaded, total, cached} (both networks' files together:
 * VGG16's and the feed-forward network's), {stage: 'starting'},
 * {stage: 'engine', loaded, total} (the wasm as it downloads and compiles), on WebGPU
 * {stage: 'warming'} (a tiny run compiles the GPU's shader pipelines before the first real
 * one) and {stage: 'ready', backend, fallback, threads, singleThreaded, warmUp} (`fallback`:
 * why an 'auto' engine runs on the CPU, WebGPU's own message, else undefined; `threads`: the
 * CPU engine's threads, 1 on WebGPU; `singleThreaded`: why the CPU engine runs on one thread
 * though more were asked for, else undefined; `warmUp`: {pipelines, ms, error}, what the
 * warm-up compiled, how long it took and why it failed if it did (null if it did not), or
 * null without a warm-up); 'starting' to 'ready' again whenever
 * a cancel restarts the engine. Only the first start warms up: after a cancel the next run
 * compiles just the pipelines it needs, fewer than the warm-up's (which covers several
 * shapes of photo), so it starts sooner.
 * Rejects with AbortError if `signal` aborts first, leaving no worker behind.
 * `startAfter`: the engine's worker starts only once this promise settles (the page passes
 * its service worker's install, which downloads the engine's files, so they come once).
 * `weights` overrides where a network's file comes from: {vgg?: {url, sha256}, fast?: {url, sha256}}.
 * `warmUp`: the options of the runs to come (engine options, as for stylize(); {} when left
 * out or null), whose pipelines the warm-up compiles, or false for no warm-up. `kernel`: VGG's convolution
 * kernel, 'gemm' (our implicit GEMM, WebGPU only) or 'direct' (burn's), for comparing them; by default the
 * device's faster one. `threads`: the CPU engine's threads (1 to 64; by default the machine's
 * cores, at most 8). More than one needs a cross-origin-isolated page (COOP `same-origin` and
 * COEP `require-corp` or `credentialless`): elsewhere the CPU engine runs on one thread and
 * 'ready' says why in `singleThreaded`; `threads` there and on the stylizer is the count it runs on.
 * @param {{weights?: object, backend?: 'auto'|'webgpu'|'cpu', threads?: number, warmUp?: object|false, kernel?: 'gemm'|'direct',
 *          onStatus?: (status: object) => void, workerUrl?: string|URL, signal?: AbortSignal,
 *          startAfter?: Promise<unknown>}} settings
 */
export async function createStylizer(settings = {}) {
  const { signal } = settings;
  if (signal?.aborted) throw reasonOf(signal);
  const { weights, engines, threads } = await prepare(settings);
  const stylizer = new Stylizer({
    weights,
    engines,
    backend: settings.backend ?? 'auto',
    threads,
    warmUp: settings.warmUp ?? {},
    kernel: settings.kernel,
    onStatus: settings.onStatus ?? (() => {}),
    workerUrl: settings.workerUrl ?? new URL('./worker.js', import.meta.url),
  });
  try {
    await stylizer.start(signal);
  } catch (error) {
    stylizer.dispose();
    throw error;
  }
  return stylizer;
}


/** Longer side of the paintings' copies the palette is taken from. */
const PALETTE_SIDE = 256;

class Stylizer {
  #settings;
  #bridge = null;
  #starting = null;
  /** Aborted by dispose(): every waiting or running call rejects. */
  #life = new AbortController();
  /** Settles when the last queued call has settled. */
  #queue = Promise.resolve();
  /** Whether a worker was started with the warm-up already (the first one is). */
  #warmedUp = false;
  /** 'webgpu' or 'cpu', once the engine runs. */
  backend = null;
  /** The threads the CPU engine computes on, once it runs (1 on WebGPU, whose work is the GPU's). */
  threads = null;
  /**
   * The engine's options on this device, every key (camelCase, as stylize() takes them):
   * what options left out take. The memory budget depends on the device (WebGPU's is smaller).
   */
  defaults = null;
  /** The options' limits: {minSize, maxSize, maxIterations, minMemoryBudget, maxMemoryBudget, …}. */
  limits = null;
  /** The engine's named presets, fastest first: [{name, size, iterations}], each over `defaults`. */
  presets = null;
  /** The engine's named looks, the default first: [{name, contentWeight}], each over `defaults`. */
  looks = null;

  constructor(settings) {
    this.#settings = settings;
  }

  /**
   * Starts the worker and the engine if they are not running. If `signal` aborts meanwhile,
   * the starting worker is terminated and the promise rejects with AbortError.
   */
  async start(signal) {
    const aborted = this.#combine(signal);
    if (aborted.aborted) throw reasonOf(aborted);
    if (!this.#bridge || this.#bridge.closed) {
      this.#settings.onStatus({ stage: 'starting' });
      const bridge = new Bridge(this.#settings.workerUrl);
      this.#bridge = bridge;
      const { weights, engines, backend, threads, warmUp, kernel } = this.#settings;
      // Copies: the weights stay here for the next worker.
      const copy = Object.fromEntries(Object.entries(weights).map(([network, bytes]) => [network, bytes.slice(0)]));
      // {stage: 'engine', loaded, bytes, contentLength} from the worker (reported on the wire),
      // then {stage: 'warming'}.
      const onProgress = ({ stage, loaded, bytes, contentLength }) =>
        this.#settings.onStatus(stage === 'engine' ? { stage, ...onTheWire(loaded, bytes, contentLength) } : { stage });
      const transfer = Object.values(copy);
      const init = { weights: copy, engines, backend, threads, panicChannel: bridge.panicChannel, warmUp: this.#warmedUp ? false : warmUp, kernel };
      this.#starting = bridge.request('init', init, { transfer, onProgress }).then((ready) => {
        this.#warmedUp = true;
        Object.assign(this, { backend: ready.backend, threads: ready.threads, defaults: ready.defaults, limits: ready.limits, presets: ready.presets, looks: ready.looks });
        const { backend, fallback, threads, singleThreaded, warmUp } = ready;
        this.#settings.onStatus({ stage: 'ready', backend, fallback, threads, singleThreaded, warmUp });
      });
      this.#starting.catch(() => {}); // handled by whoever awaits it
    }
    await this.#whileRunning(this.#starting, aborted);
  }

  /**
   * The scales of a run on a `width × height` photo with `options`, for an estimate before
   * Start: [{width, height, iterations, tiles, work, lbfgsPairs}], `work` being an iteration's
   * cost in pixels of a whole-image pass (tiles add their halos), `lbfgsPairs` the L-BFGS pairs
   * that scale keeps within the memory budget. Rejects with OptionsError for bad options.
   */
  async plan({ width, height, options: given }) {
    const options = checkedOptions(given);
    if (this.#life.signal.aborted) throw new EngineError('This stylizer has been disposed.');
    await this.start();
    return this.#bridge.request('plan', { width, height, options });
  }

  /**
   * Runs one stylization; calls run one at a time, in call order. Resolves to
   * {image, backend, iterations, msPerIteration, losses, startKept, pipelines}. If
   * `onProgress` throws, the run stops and the call rejects with what it threw.
   * With masks (Gatys et al. 2017's spatial control), each painting is matched where its
   * `mask` puts it (white, or opaque paint, = this painting; soft edges blend), and the photo
   * is kept where `keepMask` is drawn (no style there: it starts as the photo and the content
   * term holds it near); a painting without a mask covers the whole
   * picture. A mask is ImageData, an ImageBitmap, a canvas or `{width, height, data}` with one
   * byte a pixel, in the photo's shape at any size; anything else, or masks that leave no
   * painting anything to paint, rejects with an OptionsError before any work.
   * @param {{content: ImageBitmap|ImageData|Blob, styles: {image: ImageBitmap|ImageData|Blob, blend?: number, mask?: object}[],
   *          keepMask?: object, options?: object, onProgress?: (progress: object) => void, signal?: AbortSignal}} request
   */
  stylize(request = {}) {
    return this.#enqueue((previous) => this.#stylize(request, previous));
  }

  /** Starts `call(previous)`, `previous` settling when the calls before it have; the next waits for it. */
  #enqueue(call) {
    const previous = this.#queue;
    const run = call(previous);
    this.#queue = Promise.allSettled([previous, run]);
    return run;
  }

  /** The paintings' side for a run at `size` px: seen at `styleScale ×` the output, as the engine sees them. */
  #styleSide(size, options) {
    const scale = Number.isFinite(options.styleScale) ? options.styleScale : this.defaults.styleScale;
    return Math.max(Math.round(size * scale), this.limits.minSize);
  }

  /**
   * The photo at `contentSide` px and each painting at `styleSide` px as RGBA pixels, the form
   * they cross to the worker in, with the buffers to transfer.
   */
  async #pixels(content, contentSide, styles, styleSide, aborted, keepMask) {
    const contentPixels = await untilAborted(toPixels(content, 'content', contentSide), aborted);
    const transfer = [contentPixels.data.buffer];
    const mask = async (source, what) => {
      if (source == null) return undefined;
      if (!isMask(source)) {
        throw new OptionsError(`${what} must be ImageData, an ImageBitmap, a canvas or {width, height, data: Uint8Array} with one byte a pixel, not empty.`);
      }
      let pixels;
      try {
        pixels = await untilAborted(maskPixels(source, what, contentSide), aborted);
      } catch (error) {
        throw error.name === 'AbortError' ? error : new OptionsError(`${what}: ${error.message}`);
      }
      transfer.push(pixels.data.buffer);
      return pixels;
    };
    const stylePixels = [];
    for (const [i, style] of styles.entries()) {
      const image = await untilAborted(toPixels(style.image, `style ${i + 1}`, styleSide), aborted);
      transfer.push(image.data.buffer);
      const entry = { ...style, image };
      if (style.mask != null) entry.mask = await mask(style.mask, `The mask of style ${i + 1}`);
      else delete entry.mask;
      stylePixels.push(entry);
    }
    const keep = await mask(keepMask, 'keepMask');
    return { content: contentPixels, styles: stylePixels, keep, transfer };
  }

  async #stylize({ content, styles, keepMask, options: given, onProgress = () => {}, signal } = {}, previous) {
    if (this.#life.signal.aborted) throw new EngineError('This stylizer has been disposed.');
    if (!styles?.length) throw new ImageInputError('Add at least one style image.');
    const options = checkedOptions(given);
    const aborted = this.#combine(signal);
    await untilAborted(previous, aborted);
    // The images are scaled here, before they cross to the worker, to what the engine will use.
    const size = side(options.size, this.defaults.size);
    const styleSide = this.#styleSide(size, options);
    const pixels = await this.#pixels(content, size, styles, styleSide, aborted, keepMask);
    await this.start(aborted);
    return this.#whileRunning(this.#run(pixels, { ...options, size }, onProgress), aborted);
  }

  async #run({ content, styles, keep, transfer }, options, onProgress) {
    const started = performance.now();
    let firstDone = null;
    let last = null;
    const r = await this.#bridge.request('stylize', { content, styles, keep, options }, {
      transfer,
      onProgress: (p) => {
        const now = performance.now();
        if (p.iteration === 1) firstDone = now;
        last = { iteration: p.iteration, time: now };
        if (p.image) p.image = new ImageData(p.image.data, p.image.width, p.image.height);
        onProgress(p);
      },
    });
    const msPerIteration = last && firstDone && last.iteration > 1
      ? (last.time - firstDone) / (last.iteration - 1)
      : (performance.now() - started) / Math.max(1, r.iterations);
    return {
      image: new ImageData(r.data, r.width, r.height),
      backend: this.backend,
      iterations: r.iterations,
      msPerIteration,
      losses: r.losses,
      /** No step improved on the starting picture, so the result is that picture. */
      startKept: r.startKept,
      /** Shader pipelines the GPU compiled during this run (few once warmed up; 0 on the CPU). */
      pipelines: r.pipelines,
    };
  }

  /**
   * The photo in the paintings' colours, at once and without a network: `content` recoloured
   * to the palette (the mean and covariance of RGB) of the blend of `styles`, at `size` px on
   * its longer side (the engine's default size when left out). Resolves to {image}; queued
   * with stylize() calls.
   */
  palette(request = {}) {
    return this.#enqueue((previous) => this.#palette(request, previous));
  }

  async #palette({ content, styles, size, signal } = {}, previous) {
    if (this.#life.signal.aborted) throw new EngineError('This stylizer has been disposed.');
    if (!styles?.length) throw new ImageInputError('Add at least one style image.');
    const aborted = this.#combine(signal);
    await untilAborted(previous, aborted);
    await this.start(aborted);
    // The palette is a mean and a covariance: a small copy of each painting holds it.
    const pixels = await this.#pixels(content, side(size, this.defaults.size), styles, PALETTE_SIDE, aborted);
    const request = this.#bridge.request('palette', { content: pixels.content, styles: pixels.styles }, { transfer: pixels.transfer });
    const r = await this.#whileRunning(request, aborted);
    return { image: new ImageData(r.data, r.width, r.height) };
  }

  /**
   * Paints one frame of a moving picture (a camera's, a video's) with the feed-forward
   * network alone, at once: no optimisation unless `options.iterations` asks for Gatys steps
   * per frame (0 by default here). `frame`: a VideoFrame, ImageBitmap, ImageData, canvas or
   * playing video; `styles` as for stylize(), without masks. Resolves to an ImageData for
   * ImageData in, else an ImageBitmap, `options.size` px on its longer side (the defaults'
   * size when left out). The style is computed once, from the first frame, and kept while the
   * same paintings (the same objects, with the same blends) and options come; each frame is
   * steadied by the one before (`frameStability`), so call it frame after frame in order, and
   * pass `restart: true` for a new clip. `frameTime` is then the engine's time for the frame.
   * Queued with stylize() calls; `signal` rejects the call with AbortError (the frame in the
   * engine finishes and is dropped; the engine stays warm).
   * @param {VideoFrame|ImageBitmap|ImageData|HTMLCanvasElement|OffscreenCanvas|HTMLVideoElement} frame
   * @param {{image: ImageBitmap|ImageData|Blob, blend?: number}[]} styles
   * @param {{options?: object, signal?: AbortSignal, restart?: boolean}} [settings]
   */
  paintFrame(frame, styles, { options, signal, restart = false } = {}) {
    let painted;
    const aborted = this.#combine(signal);
    // The queue waits for the engine's reply, the caller only until it aborts.
    this.#enqueue((previous) => (painted = this.#paintFrame(frame, styles, options, restart, previous, aborted)));
    return untilAborted(painted, aborted);
  }

  /** The engine's time for the last frame paintFrame() painted, in milliseconds. */
  frameTime = null;

  /** The paintings and options the worker's frame painter has, and on which worker. */
  #frames = null;

  async #paintFrame(frame, styles, given, restart, previous, aborted) {
    if (this.#life.signal.aborted) throw new EngineError('This stylizer has been disposed.');
    const options = { iterations: 0, ...checkedOptions(given) };
    if (!styles?.length) throw new ImageInputError('Add at least one style image.');
    if (styles.some((style) => style.mask != null)) {
      throw new OptionsError('Masks do not apply to video frames: a frame is painted whole.');
    }
    await untilAborted(previous, aborted);
    await this.start(aborted);
    const size = side(options.size, this.defaults.size);
    const pixels = await toPixels(frame, 'frame', size);
    const request = { frame: pixels };
    const transfer = [pixels.data.buffer];
    const chosen = { bridge: this.#bridge, styles: styles.map(({ image, blend = 1 }) => ({ image, blend })), options: JSON.stringify(options) };
    const same = (a, b) => a && a.bridge === b.bridge && a.options === b.options && a.styles.length === b.styles.length
      && a.styles.every((s, i) => s.image === b.styles[i].image && s.blend === b.styles[i].blend);
    if (restart || !same(this.#frames, chosen)) {
      const styleSide = this.#styleSide(size, options);
      const paintings = [];
      for (const [i, { image, blend }] of chosen.styles.entries()) {
        const painting = await toPixels(image, `style ${i + 1}`, styleSide);
        transfer.push(painting.data.buffer);
        paintings.push({ image: painting, blend });
      }
      Object.assign(request, { styles: paintings, options: { ...options, size } });
      this.#frames = null;
    }
    const r = await this.#bridge.request('frame', request, { transfer });
    if (request.styles) this.#frames = chosen;
    this.frameTime = r.ms;
    const image = new ImageData(r.data, r.width, r.height);
    if (frame instanceof ImageData) return image;
    // No bitmap for a caller who has gone: nobody would close it.
    if (aborted.aborted) throw reasonOf(aborted);
    return createImageBitmap(image);
  }

  /**
   * Stylizes a video file frame by frame ([paintFrame()](#paintFrame) with a fresh clip) and
   * encodes the frames to a WebM (VP9, or the best codec the browser's VideoEncoder has), the
   * sound copied unchanged: resolves to the video's Blob. `file`: an MP4, WebM or MOV the
   * browser can decode (else a VideoInputError); `options` as for paintFrame(); `styles` as for
   * stylize(). `onProgress({frame, frames, elapsedMs, remainingMs, preview, audio})` after each
   * frame (`preview` the painted ImageData; `audio` what happens to the sound: 'copied',
   * 'encoded' as Opus, 'dropped' or 'none'). `signal` stops within a frame and rejects with
   * AbortError; nothing half-written is returned. Frames stream through: memory does not grow
   * with the video's length. One video at a time: a second call waits for the first; a
   * paintFrame() loop meanwhile (another clip) would restart the video's steadying.
   * @param {Blob} file
   * @param {object} [options]
   * @param {{styles: {image: ImageBitmap|ImageData|Blob, blend?: number}[], signal?: AbortSignal, onProgress?: (progress: object) => void}} settings
   */
  async stylizeVideo(file, given, { styles, signal, onProgress } = {}) {
    if (this.#life.signal.aborted) throw new EngineError('This stylizer has been disposed.');
    const options = checkedOptions(given);
    if (!styles?.length) throw new ImageInputError('Add at least one style image.');
    const aborted = this.#combine(signal);
    // One video at a time: frames of two clips would steady each other.
    const previous = this.#videos;
    let done;
    this.#videos = new Promise((resolve) => (done = resolve));
    try {
      await untilAborted(previous, aborted);
      await this.start(aborted);
      let restart = true;
      const paint = async (frame) => {
        // The frame's sides are even (as encoders need): painted at that size exactly.
        const size = Math.max(frame.width, frame.height);
        const painted = await this.paintFrame(frame, styles, { options: { ...options, size }, signal: aborted, restart });
        restart = false;
        return painted;
      };
      const size = side(options.size, this.defaults.size);
      return await stylizeVideo(file, paint, { size, signal: aborted, onProgress });
    } catch (error) {
      // The video module's own AbortError (a DOMException) as this API's.
      throw aborted.aborted ? reasonOf(aborted) : error;
    } finally {
      done();
    }
  }

  /** Settles when the last video has. */
  #videos = Promise.resolve();

  /** Awaits `work`; if `aborted` fires first, the worker is terminated with its reason. */
  async #whileRunning(work, aborted) {
    const stop = () => this.#bridge?.close(reasonOf(aborted));
    if (aborted.aborted) stop();
    aborted.addEventListener('abort', stop, { once: true });
    try {
      return await work;
    } finally {
      aborted.removeEventListener('abort', stop);
    }
  }

  /** The caller's signal joined with this stylizer's lifetime. */
  #combine(signal) {
    return signal ? AbortSignal.any([this.#life.signal, signal]) : this.#life.signal;
  }

  /** Ends the worker and frees the engine's memory; every pending call rejects with AbortError. */
  dispose() {
    const disposed = new AbortError('The stylizer was disposed.');
    this.#life.abort(disposed);
    this.#bridge?.close(disposed);
  }
}

