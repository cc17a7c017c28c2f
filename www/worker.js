// The module Web Worker that owns the wasm engine; www/stylizer.js is its only caller.
//
// Messages in:  {id, type: 'init', weights: {vgg, fast}, engines: {webgpu, cpu} (each {glue,
//               wasm, bytes}), backend, threads (the CPU engine's), panicChannel (the
//               BroadcastChannel the CPU engine posts a panic on any thread to), warmUp:
//               options or false, kernel}
//               {id, type: 'stylize', content, styles, keep, options}
//               {id, type: 'plan', width, height, options} (the scales and tiles of a run)
//               {id, type: 'palette', content, styles} (the photo in the paintings' colours)
//               {id, type: 'frame', frame, styles?, options?} (a moving picture's frame; with
//               styles and options, the first of a new clip, whose style is computed now)
// Messages out: {id, type: 'progress', progress} (the engine's download, then {stage:
//               'warming'} on WebGPU, for 'init'; the optimisation for 'stylize'),
//               {id, type: 'result', result} ('init': {backend, fallback, threads,
//               singleThreaded, defaults, limits, presets, looks, warmUp: {pipelines, ms} or
//               null}, `fallback` why 'auto' runs on the CPU, `singleThreaded` why the CPU runs
//               on one thread though more were asked for, the rest the engine's own; 'stylize': the image, with `pipelines`
//               compiled during the run; 'palette': the image; 'frame': the image and `ms`,
//               the engine's time for it),
//               {id, type: 'error', error: {name, message, fatal}}, and {type: 'fatal', message}
//               when the GPU device is lost (the worker then closes).
// The engine's glue and wasm come by their content-hashed names from the build manifest, so
// the two always belong to the same build. There are two engine modules, WebGPU's and the
// CPU's (with its thread pool); the worker loads one.

// What a Content-Security-Policy refuses here (a widget host page's that does not allow what
// the engine needs, README "The widget") is said in the console, where the host's developer
// looks: the worker's own refusals reach no page.
self.addEventListener('securitypolicyviolation', (e) =>
  console.error(`Content-Security-Policy: ${e.violatedDirective} refused ${e.blockedURI} to the style transfer engine.`),
);

let engine = null;
/** The engine module's free functions (`palette`), once it is loaded. */
let module = null;
/** The painter of the current clip's frames, and the frames waiting for it (one at a time). */
let frames = null;
let framesDone = Promise.resolve();
/** Compute pipelines (compiled shaders) created so far on WebGPU. */
let pipelines = 0;

// Count the pipelines: each is a shader compiled by the browser, which on a software
// renderer (SwiftShader) takes a noticeable part of a first run.
if (self.GPUDevice) {
  for (const name of ['createComputePipeline', 'createComputePipelineAsync']) {
    const create = GPUDevice.prototype[name];
    GPUDevice.prototype[name] = function (...args) {
      pipelines += 1;
      return create.apply(this, args);
    };
  }
}

/** A tiny module that only validates where WebAssembly SIMD is supported (v128 result, i8x16 ops). */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** The GPU devices this worker holds: one engine's, at most (the soak test reads it). */
self.gpuDevices = 0;

// Keep hold of the GPU device that the engine asks for, so that when the browser loses it
// (a driver reset, a GPU unplugged, or `device.destroy()`) the run stops with a clear
// message instead of hanging; the page then starts a fresh worker for the next run.
if (navigator.gpu) {
  const requestAdapter = navigator.gpu.requestAdapter.bind(navigator.gpu);
  navigator.gpu.requestAdapter = async (...args) => {
    const adapter = await requestAdapter(...args);
    if (adapter) {
      const requestDevice = adapter.requestDevice.bind(adapter);
      adapter.requestDevice = async (...options) => {
        const device = await requestDevice(...options);
        self.gpuDevices++;
        device.lost.then((info) => {
          self.gpuDevices--;
          self.postMessage({
            type: 'fatal',
            message: `The GPU device was lost (${info.message || info.reason}); start again to continue.`,
          });
          self.close();
        });
        return device;
      };
    }
    return adapter;
  };
}

/** Why there is no WebGPU engine in a browser without the API (as the WebGPU module says it). */
const NO_WEBGPU = 'this browser has no WebGPU (navigator.gpu is missing)';

const handlers = {
  async init({ weights, engines, backend, threads, panicChannel, warmUp, kernel }, id) {
    if (!WebAssembly.validate(SIMD_PROBE)) {
      throw named(
        'EngineError',
        'This browser does not run WebAssembly SIMD, which the engine needs (Chrome and Edge 91, Firefox 89 and Safari 16.4 onwards do): please update it.',
        true,
      );
    }
    const vgg = new Uint8Array(weights.vgg);
    const fast = weights.fast && new Uint8Array(weights.fast);
    // 'auto': WebGPU's module when the browser has WebGPU; if it gives no device, the CPU's,
    // and `fallback` says why. Only the module that runs is downloaded.
    let fallback;
    let cpu = backend === 'cpu';
    if (backend === 'webgpu' && !navigator.gpu) {
      throw named('EngineError', NO_WEBGPU, true);
    }
    if (backend === 'auto') {
      // As the service worker decides which module to keep: no adapter, no WebGPU module.
      const adapter = await navigator.gpu?.requestAdapter().catch(() => null);
      if (!adapter) {
        cpu = true;
        fallback = navigator.gpu ? 'this browser found no GPU for WebGPU' : NO_WEBGPU;
      }
    }
    if (!cpu) {
      await load(engines.webgpu, id);
      try {
        engine = await module.Engine.create(vgg, fast, backend, kernel);
      } catch (error) {
        if (error?.name !== 'WebGpuUnavailable') throw error;
        cpu = true;
        fallback = error.message;
      }
    }
    let singleThreaded;
    if (cpu) {
      await load(engines.cpu, id);
      module.reportPanicsTo(panicChannel);
      singleThreaded = await startThreads(threads);
      engine = await module.Engine.create(vgg, fast, 'cpu', kernel);
    }
    const ready = {
      backend: engine.backend,
      fallback,
      threads: module.threads(),
      singleThreaded,
      defaults: engine.defaults,
      limits: module.limits(),
      presets: module.presets(),
      looks: module.looks(),
    };
    if (engine.backend !== 'webgpu' || warmUp === false) return { ...ready, warmUp: null };
    // Compile the GPU's pipelines now, while the user chooses images, not after Start.
    self.postMessage({ id, type: 'progress', progress: { stage: 'warming' } });
    const [before, began] = [pipelines, performance.now()];
    // A failed warm-up (say, options a run would refuse too) leaves the engine as it was: the
    // run itself reports such errors.
    const error = await engine.warmUp(warmUp).then(() => null, (e) => String(e?.message ?? e));
    return { ...ready, warmUp: { pipelines: pipelines - before, ms: performance.now() - began, error } };
  },

  async plan({ width, height, options }) {
    return engine.plan(width, height, options);
  },

  async palette({ content, styles }) {
    return module.palette(content, styles);
  },

  async frame({ frame, styles, options }) {
    const paint = async () => {
      if (styles) {
        frames?.free();
        frames = null;
        frames = engine.frames(frame, styles, options);
      }
      if (!frames) throw named('OptionsError', 'The first frame of a clip comes with its paintings.', false);
      const began = performance.now();
      const painted = await frames.paint(frame);
      return Object.assign(painted, { ms: performance.now() - began });
    };
    // One frame at a time, in the order they came, whatever the page sends meanwhile.
    const done = framesDone.then(paint);
    framesDone = done.catch(() => {});
    return done;
  },

  async stylize({ content, styles, keep, options }, id) {
    const before = pipelines;
    const result = await engine.stylize(content, styles, keep, options, (progress) => {
      self.postMessage({ id, type: 'progress', progress }, progress.image ? [progress.image.data.buffer] : []);
    });
    return Object.assign(result, { pipelines: pipelines - before });
  },
};

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    const result = await handlers[type](data, id);
    // An image result's pixels move to the page rather than being copied.
    self.postMessage({ id, type: 'result', result }, result.data ? [result.data.buffer] : []);
  } catch (error) {
    self.postMessage({ id, type: 'error', error: describe(error) });
  }
};

/**
 * Downloads and starts one engine module (`files`: its glue, its wasm and the wasm's size),
 * reporting the download as the 'engine' stage of request `id`; `module` is then its exports.
 */
async function load(files, id) {
  const unavailable = (why) => named('EngineError', `The engine could not be downloaded (${why}); reload the page.`, true);
  // Offline with a module this browser never used before, or a deploy that removed it.
  module = await import(files.glue).catch((error) => {
    throw unavailable(error.message);
  });
  const response = await fetch(files.wasm).catch((error) => {
    throw unavailable(error.message);
  });
  if (!response.ok) throw unavailable(response.status);
  // Compiled while it streams in; the bytes are counted on the way for the page's progress
  // bar, which shows them on the wire (Content-Length is the compressed size, if any).
  const contentLength = Number(response.headers.get('content-length')) || 0;
  const report = (loaded) =>
    self.postMessage({ id, type: 'progress', progress: { stage: 'engine', loaded, bytes: files.bytes, contentLength } });
  try {
    await module.default({ module_or_path: counted(response, report) });
  } catch (error) {
    // Say, a browser that cannot reserve the CPU module's shared memory.
    throw named('EngineError', `The engine could not start in this browser: ${error.message}`, true);
  }
}

/**
 * Starts the CPU module's thread pool: `threads` Web Workers sharing its memory where this
 * worker is cross-origin isolated (shared memory may only be sent to another worker there),
 * else the engine's own thread alone. Resolves to why it runs on one thread though more were
 * asked for, else undefined.
 */
async function startThreads(threads) {
  if (threads > 1 && self.crossOriginIsolated) {
    // The pool's workers each report ready; one that cannot start (a Content-Security-Policy
    // without `worker-src blob:`, say) never does, so the pool gets a deadline, after which the
    // engine runs on its own thread rather than never starting.
    const pool = module.initThreadPool(threads);
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`its workers did not start within ${POOL_DEADLINE_MS / 1000} s`)), POOL_DEADLINE_MS);
    });
    try {
      await Promise.race([pool, deadline]);
      return undefined;
    } catch (error) {
      pool.catch(() => {}); // a pool that starts after all is left unused
      module.initOneThread();
      return `the thread pool did not start (${error.message})`;
    } finally {
      clearTimeout(timer);
    }
  }
  module.initOneThread();
  if (threads > 1) {
    return 'the page is not cross-origin isolated (it needs the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp or credentialless), so its workers cannot share memory';
  }
  return undefined;
}

/** How long the CPU engine's thread pool may take to start (well under a second here). */
const POOL_DEADLINE_MS = 20_000;

/** `response` with the same body, calling `report(bytes so far)` as it is read. */
function counted(response, report) {
  let loaded = 0;
  const counter = new TransformStream({
    transform(chunk, controller) {
      loaded += chunk.byteLength;
      report(loaded);
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), { headers: { 'content-type': 'application/wasm' } });
}

/** Errors the engine names (OptionsError, ImageInputError) leave it usable; others do not. */
const RECOVERABLE = new Set(['OptionsError', 'ImageInputError', 'AbortError']);

function describe(error) {
  const name = error?.name ?? 'EngineError';
  const message = String(error?.message ?? error);
  return { name, message, fatal: error?.fatal ?? !RECOVERABLE.has(name) };
}

function named(name, message, fatal) {
  return Object.assign(new Error(message), { name, fatal });
}
