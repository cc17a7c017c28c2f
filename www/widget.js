// The embeddable widget: one script and one element, on any site.
//
//   <script type="module" src="https://HOST/widget.js"></script>
//   <style-transfer style-src="painting.jpg" size="384"></style-transfer>
//
// README, "Embedding: the widget", is its manual: the attributes (style-src, size,
// iterations, look, colors, backend, live), the properties (content, styleImage, styleMask,
// keepMask, options) and methods (run, cancel, live, stopLive), the events (load, progress,
// done, error, frame), and what a host page must send (cross-origin isolation, for the
// threads) and allow in its own Content-Security-Policy. www/widget.d.ts holds its types.
// The widget's own files are resolved relative to this script, so it works from any origin;
// removing the element cancels its start or run and frees its worker and wasm, while moving
// it in the document keeps its engine.

import { closeCamera, openCamera, paintLive } from './camera.js';
import { paintingUrl, preset } from './gallery.js';
import { drawImage, offerDownload, withdrawDownload } from './result.js';
import { fetchImage } from './images.js';
import { AbortError, createStylizer, decode } from './stylizer.js';

const TAG = 'style-transfer';

/** How often the canvas is redrawn during a run, in steps. */
const PREVIEW_EVERY = 5;

/**
 * The widget's looks. Adopted as a constructed style sheet, which a host page's
 * Content-Security-Policy does not govern (an inline <style> would need the host to allow
 * 'unsafe-inline').
 */
const STYLE = `
  :host { all: initial; display: block; max-width: 26rem; contain: content; }
  :host([hidden]) { display: none; }
  /* Every look is set here, not inherited: the host page's styles stop at the element. */
  .panel { box-sizing: border-box; padding: 12px; font: 14px/1.4 system-ui, sans-serif;
    color: #1c1917; background: #fff; border: 1px solid #d6d3d1; border-radius: 8px; }
  .panel * { box-sizing: border-box; font: inherit; color: inherit; }
  .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 0 0 8px; }
  label { display: grid; gap: 2px; font-size: 13px; }
  input[type=file] { max-width: 100%; }
  button { padding: 6px 14px; border-radius: 6px; border: 1px solid #c2410c; background: #c2410c; color: #fff; cursor: pointer; }
  button:disabled { opacity: 0.5; cursor: not-allowed; }
  button:focus-visible, input:focus-visible { outline: 3px solid #c2410c; outline-offset: 2px; }
  canvas { display: block; width: 100%; height: auto; background: #f5f5f4; border-radius: 4px; }
  canvas:not([width]) { display: none; }
  .status { font-size: 13px; min-height: 1.4em; margin: 6px 0 0; }
  .error { color: #b91c1c; }
  a { color: #c2410c; }
`;

/** The one constructed sheet of STYLE, shared by every widget on the page. */
let sheet = null;

const TEMPLATE = `
<div class="panel" part="panel">
  <div class="row">
    <label>Photo <input type="file" accept="image/*" part="content-input" class="content"></label>
    <label>Painting <input type="file" accept="image/*" part="style-input" class="style"></label>
  </div>
  <div class="row">
    <button type="button" class="run" part="run" disabled>Stylize</button>
    <button type="button" class="live" part="live" hidden disabled>Live</button>
    <a class="download" download="stylized.png" hidden>Download</a>
  </div>
  <canvas part="canvas" role="img" aria-label="Stylized picture"></canvas>
  <video muted playsinline hidden></video>
  <p class="status" role="status" aria-live="polite">Loading…</p>
  <p class="status rate" part="rate"></p>
</div>
`;

/** `run()` was called while a run (or Live) is going; that goes on. */
export class BusyError extends Error {
  constructor() {
    super('A stylization or Live is already running; cancel() or stopLive() it first.');
    this.name = 'BusyError';
  }
}

/** Everything the element does; the element itself is a thin facade. */
class Widget {
  #host;
  #root;
  #stylizer = null;
  /** Why the CPU engine runs on one thread though more were asked for (a host page not cross-origin isolated). */
  #singleThreaded;
  /** Aborts the engine's start when the element is removed meanwhile. */
  #starting = null;
  #running = null;
  /** The live camera: its stream and what stops its loop. */
  #live = null;
  content = null;
  styleImage = null;
  styleMask = null;
  keepMask = null;
  options = {};

  constructor(host, root) {
    this.#host = host;
    this.#root = root;
    root.innerHTML = TEMPLATE;
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    }
    root.adoptedStyleSheets = [sheet];
    this.#$('.content').addEventListener('change', (e) => (this.content = e.target.files[0] ?? null, this.#update()));
    this.#$('.style').addEventListener('change', (e) => (this.styleImage = e.target.files[0] ?? null, this.#update()));
    this.#$('.run').addEventListener('click', () => (this.#running ? this.cancel() : this.run().catch(() => {})));
    this.#$('.live').addEventListener('click', () => (this.#live ? this.stopLive() : this.live().catch(() => {})));
    this.#onHidden = () => document.hidden && this.stopLive();
  }

  /** Stops the live camera when the tab is hidden (listened to while connected). */
  #onHidden;

  #$(selector) {
    return this.#root.querySelector(selector);
  }

  #status(text, error = false) {
    const status = this.#$('.status');
    status.textContent = text;
    status.classList.toggle('error', error);
  }

  #emit(type, detail) {
    this.#host.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #update() {
    const run = this.#$('.run');
    const painting = this.styleImage || this.#styleSrc();
    run.textContent = this.#running ? 'Cancel' : 'Stylize';
    run.disabled = !!this.#live || (!this.#running && !(this.#stylizer && this.content && painting));
    const live = this.#$('.live');
    live.hidden = !this.#host.hasAttribute('live');
    live.textContent = this.#live ? 'Stop' : 'Live';
    live.disabled = !this.#live && (!!this.#running || !(this.#stylizer && painting));
  }

  #styleSrc() {
    return this.#host.getAttribute('style-src');
  }

  #number(name) {
    const value = Number(this.#host.getAttribute(name));
    return this.#host.hasAttribute(name) && Number.isFinite(value) ? value : undefined;
  }

  /** Starts the engine, once: a move in the DOM keeps the one already starting or running. */
  connect() {
    document.addEventListener('visibilitychange', this.#onHidden);
    if (this.#starting || this.#stylizer) return;
    const starting = new AbortController();
    this.#starting = starting;
    createStylizer({
      backend: this.#host.getAttribute('backend') ?? 'auto',
      signal: starting.signal,
      onStatus: (s) => {
        if (s.stage === 'weights' && !s.cached) this.#status(`Downloading the model: ${Math.round((100 * s.loaded) / (s.total || 1))} %`);
        if (s.stage === 'starting') this.#status('Starting the engine…');
        if (s.stage === 'warming') this.#status('Preparing the GPU…');
        if (s.stage === 'ready') {
          this.#singleThreaded = s.singleThreaded;
          this.#status(readyText(s));
        }
      },
    }).then(
      (stylizer) => {
        this.#starting = null;
        this.#stylizer = stylizer;
        this.#status(readyText(stylizer));
        this.#update();
        this.#emit('load', { backend: stylizer.backend, threads: stylizer.threads, singleThreaded: this.#singleThreaded });
      },
      (error) => {
        if (this.#starting !== starting) return; // removed meanwhile: nothing to report
        this.#starting = null;
        this.#fail(error);
      },
    );
  }

  /**
   * The element left the document. A move (removed and inserted in one task) keeps the
   * engine; a removal stops the start or the run and frees the worker.
   */
  disconnect() {
    queueMicrotask(() => {
      if (this.#host.isConnected) return;
      document.removeEventListener('visibilitychange', this.#onHidden);
      this.stopLive();
      const starting = this.#starting;
      this.#starting = null;
      starting?.abort();
      this.#running?.abort();
      this.#stylizer?.dispose();
      this.#stylizer = null;
    });
  }

  attributeChanged() {
    // Without the attribute there is no Stop button: Live ends with it.
    if (!this.#host.hasAttribute('live')) this.stopLive();
    this.#update();
  }

  #fail(error) {
    this.#status(error.message, true);
    this.#emit('error', { message: error.message, name: error.name });
  }

  async #painting() {
    if (this.styleImage) return this.styleImage instanceof Blob ? decode(this.styleImage, 'painting') : this.styleImage;
    const src = this.#styleSrc();
    if (!src) throw new Error('Choose a painting first.');
    const named = preset(src);
    return fetchImage(named ? paintingUrl(named) : new URL(src, document.baseURI), 'painting', src);
  }

  /** The engine's look the `look` attribute names; none when it is absent. */
  #look() {
    const name = this.#host.getAttribute('look');
    if (name === null) return undefined;
    const look = this.#stylizer.looks.find((l) => l.name === name);
    if (!look) throw new Error(`look="${name}": not one of ${this.#stylizer.looks.map((l) => l.name).join(', ')}.`);
    return look;
  }

  /** Runs one stylization; resolves to the result's ImageData. Rejects with BusyError while one (or Live) runs. */
  async run() {
    if (this.#running || this.#live) throw new BusyError();
    const controller = new AbortController();
    this.#running = controller;
    try {
      if (!this.#stylizer) throw new Error('The engine is still loading.');
      if (!this.content) throw new Error('Choose a photo first.');
      this.#update();
      withdrawDownload(this.#$('.download'));
      const content = this.content instanceof Blob ? await decode(this.content, 'photo') : this.content;
      const painting = await this.#painting();
      const canvas = this.#$('canvas');
      const result = await this.#stylizer.stylize({
        content,
        styles: [{ image: painting, blend: 1, mask: this.styleMask ?? undefined }],
        keepMask: this.keepMask ?? undefined,
        options: {
          size: this.#number('size'),
          iterations: this.#number('iterations'),
          colors: this.#host.getAttribute('colors') ?? undefined,
          contentWeight: this.#look()?.contentWeight,
          previewEvery: PREVIEW_EVERY,
          ...this.options,
        },
        signal: controller.signal,
        onProgress: (p) => {
          if (p.image) drawImage(canvas, p.image);
          const tile = p.tile ? ` · tile ${p.tile.done} of ${p.tile.count}` : '';
          const first = p.total ? `First picture; refining it in ${p.total} steps…` : 'Painting…';
          this.#status(p.iteration ? `Step ${p.iteration} of ${p.total}${tile}` : first);
          this.#emit('progress', p);
        },
      });
      drawImage(canvas, result.image);
      offerDownload(canvas, this.#$('.download'));
      const kept = result.startKept ? ' None improved on the first picture, so it is kept.' : '';
      const steps = `${result.iterations} step${result.iterations === 1 ? '' : 's'}`;
      this.#status(result.iterations ? `Done in ${steps}.${kept}` : 'Done.');
      this.#emit('done', { image: result.image });
      return result.image;
    } catch (error) {
      if (error instanceof AbortError) this.#status('Cancelled.');
      else this.#fail(error);
      throw error;
    } finally {
      if (this.#running === controller) this.#running = null;
      this.#update();
    }
  }

  cancel() {
    this.#running?.abort();
  }

  /**
   * Paints the camera live in the painting's style until stopLive() (or a hidden tab, or the
   * element's removal); resolves when it stops. Rejects with the camera's error, or BusyError
   * during a run.
   */
  async live() {
    if (this.#running) throw new BusyError();
    if (this.#live) return;
    const controller = new AbortController();
    this.#live = { controller, stream: null };
    this.#update();
    const video = this.#$('video');
    const canvas = this.#$('canvas');
    try {
      if (!this.#stylizer) throw new Error('The engine is still loading.');
      const styles = [{ image: await this.#painting() }];
      if (controller.signal.aborted) return;
      const stream = await openCamera();
      if (controller.signal.aborted) return closeCamera(stream);
      this.#live.stream = stream;
      video.srcObject = stream;
      video.play().catch(() => {});
      // Said once: the rate below changes every frame, too often for a screen reader.
      this.#status('Live: painting the camera.');
      const options = { size: this.#number('size') ?? 256, colors: this.#host.getAttribute('colors') ?? undefined };
      const paint = (frame) => this.#stylizer.paintFrame(frame, styles, { options, signal: controller.signal });
      await paintLive(video, canvas, paint, controller.signal, ({ fps }) => {
        this.#$('.rate').textContent = `${fps.toFixed(1)} frames a second`;
        this.#emit('frame', { fps, ms: this.#stylizer?.frameTime ?? null });
      });
    } catch (error) {
      if (error instanceof AbortError) return;
      // The camera released first, so that the error is what the status says last.
      if (this.#live?.controller === controller) this.#release();
      this.#fail(error);
      throw error;
    } finally {
      if (this.#live?.controller === controller) this.stopLive();
    }
  }

  /** Stops the live camera, releasing it. */
  stopLive() {
    if (!this.#live) return;
    this.#release();
    if (this.#stylizer) this.#status(readyText(this.#stylizer));
  }

  /** Ends the live loop and turns the camera off. */
  #release() {
    const live = this.#live;
    this.#live = null;
    live.controller.abort(new AbortError('Live painting was stopped.'));
    closeCamera(live.stream);
    this.#$('video').srcObject = null;
    this.#$('.rate').textContent = '';
    this.#update();
  }
}

/** The ready line for an engine on `backend` with `threads` (a stylizer or a 'ready' status). */
function readyText({ backend, threads }) {
  const where = backend === 'webgpu' ? 'GPU' : `CPU, ${threads === 1 ? 'one thread' : `${threads} threads`}`;
  return `Ready (${where}). Nothing leaves this device.`;
}

/** `<style-transfer>`: a facade over {@link Widget}. */
export class StyleTransferElement extends HTMLElement {
  static observedAttributes = ['style-src', 'size', 'iterations', 'look', 'colors', 'backend', 'live'];
  #widget = new Widget(this, this.attachShadow({ mode: 'open' }));

  connectedCallback() {
    this.#widget.connect();
  }
  disconnectedCallback() {
    this.#widget.disconnect();
  }
  attributeChangedCallback() {
    this.#widget.attributeChanged();
  }
  /** The photo: File, Blob, ImageBitmap or ImageData. */
  get content() {
    return this.#widget.content;
  }
  set content(value) {
    this.#widget.content = value;
    this.#widget.attributeChanged();
  }
  /** The painting, taking precedence over `style-src`. */
  get styleImage() {
    return this.#widget.styleImage;
  }
  set styleImage(value) {
    this.#widget.styleImage = value;
    this.#widget.attributeChanged();
  }
  /**
   * Where the painting goes (the photo is kept elsewhere): ImageData, an ImageBitmap, a
   * canvas or `{width, height, data}` with one byte a pixel, in the photo's shape; white (or
   * opaque paint) = the painting. `null` for the whole picture.
   */
  get styleMask() {
    return this.#widget.styleMask;
  }
  set styleMask(value) {
    this.#widget.styleMask = value;
  }
  /** Where the photo is kept, with no style (a mask as for styleMask); `null` for nowhere. */
  get keepMask() {
    return this.#widget.keepMask;
  }
  set keepMask(value) {
    this.#widget.keepMask = value;
  }
  /** Engine options on top of the attributes, e.g. `{ styleWeight: 200, seed: 3 }`. */
  get options() {
    return this.#widget.options;
  }
  set options(value) {
    this.#widget.options = { ...value };
  }
  /** Starts a run; resolves to the result's ImageData. */
  run() {
    return this.#widget.run();
  }
  /** Stops a run. */
  cancel() {
    this.#widget.cancel();
  }
  /** Paints the camera live in the painting's style; resolves when stopped. */
  live() {
    return this.#widget.live();
  }
  /** Stops the live camera and releases it. */
  stopLive() {
    this.#widget.stopLive();
  }
}

// Another script (or a second copy of this one) may have taken the name: leave it.
if (!customElements.get(TAG)) customElements.define(TAG, StyleTransferElement);
