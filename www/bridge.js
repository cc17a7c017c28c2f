// The one bridge between the page's thread and the engine's worker (www/worker.js): messages
// with an id each, a promise per request that always settles, and the API's error classes.

import { ImageInputError } from './images.js';

/** A run was cancelled through its AbortSignal, or the stylizer was disposed. */
export class AbortError extends Error {
  constructor(message = 'The stylization was cancelled.') {
    super(message);
    this.name = 'AbortError';
  }
}

/** The engine failed: a lost GPU device, a crash in the worker, a diverged run. */
export class EngineError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EngineError';
  }
}

/**
 * An option is unknown, of the wrong type or out of range (`size: 5`, `styleWieght`). The
 * engine refuses it before any work; the worker and its compiled GPU pipelines stay alive.
 */
export class OptionsError extends Error {
  constructor(message) {
    super(message);
    this.name = 'OptionsError';
  }
}

/**
 * One worker and the requests in flight to it: a single message handler, an id per request,
 * and a promise per request that always settles.
 */
export class Bridge {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #closed = null;
  /**
   * Where the engine posts a panic on any of its threads (`panicChannel`, a BroadcastChannel
   * name): a thread of the CPU engine's pool has no other way out, as the engine's own thread
   * waits for its work.
   */
  #panics;

  constructor(url) {
    this.panicChannel = `style-transfer-panic-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    this.#panics = new BroadcastChannel(this.panicChannel);
    this.#panics.onmessage = ({ data }) => this.close(new EngineError(`The engine failed: ${data}`));
    this.#worker = spawnWorker(url);
    let heard = false;
    this.#worker.onmessage = ({ data }) => {
      heard = true;
      this.#receive(data);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault?.();
      // An error without a message before the worker's first word: its script never ran (the
      // browser tells the page no more, on purpose).
      const unloaded = 'The engine worker could not be loaded: the network failed, or a Content-Security-Policy of this page refuses it (README, "Embedding: the widget", lists what it must allow).';
      this.close(new EngineError(event.message || (heard ? 'The engine worker crashed.' : unloaded)));
    };
    this.#worker.onmessageerror = () => this.close(new EngineError('The engine worker sent an unreadable message.'));
  }

  /** Whether close() ran: no request reaches this worker any more. */
  get closed() {
    return this.#closed !== null;
  }

  /** Sends `{type, ...payload}`; resolves with the reply's result, reports progress on the way. */
  request(type, payload, { transfer = [], onProgress = () => {} } = {}) {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#worker.postMessage({ id, type, ...payload }, transfer);
    });
  }

  #receive(data) {
    if (data.type === 'fatal') {
      this.close(new EngineError(data.message));
      return;
    }
    const request = this.#pending.get(data.id);
    if (!request) return;
    if (data.type === 'progress') {
      try {
        request.onProgress(data.progress);
      } catch (error) {
        // A throwing progress callback (the caller's own) ends the work and its worker, as a
        // cancel does, and is what the call rejects with: never swallowed, never a cancel.
        this.close(error);
      }
      return;
    }
    this.#pending.delete(data.id);
    if (data.type === 'result') {
      request.resolve(data.result);
      return;
    }
    const error = errorFrom(data.error);
    request.reject(error);
    // After a device loss or a panic the wasm instance cannot be trusted: start afresh.
    if (data.error.fatal) this.close(error);
  }

  /** Terminates the worker and rejects every pending request with `error`. */
  close(error) {
    if (this.#closed) return;
    this.#closed = error;
    this.#worker.terminate();
    this.#panics.close();
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}

/** The worker's `{name, message}` as one of this module's error classes. */
function errorFrom({ name, message }) {
  if (name === 'OptionsError') return new OptionsError(message);
  if (name === 'ImageInputError') return new ImageInputError(message);
  if (name === 'AbortError') return new AbortError(message);
  return new EngineError(message);
}

/** An abort reason as this module's AbortError. */
export function reasonOf(signal) {
  return signal.reason instanceof AbortError ? signal.reason : new AbortError();
}

/** `promise`, or an AbortError as soon as `signal` aborts. */
export function untilAborted(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(reasonOf(signal));
  return new Promise((resolve, reject) => {
    const abort = () => reject(reasonOf(signal));
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
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
