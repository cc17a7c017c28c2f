// What a stylizer needs before its engine's worker starts (www/stylizer.js's createStylizer):
// the build manifest, both networks' weights (downloaded or from the cache, checked, with one
// progress), the engine modules' addresses and the CPU engine's thread count.

import { EngineError, OptionsError, untilAborted } from './bridge.js';
import { loadWeights } from './weights.js';

const BUILD = new URL('./pkg/build.json', import.meta.url);

/** The build manifest (`www/pkg/build.json`): the engine modules' and the weights' file names. */
async function buildManifest() {
  const response = await fetch(BUILD);
  if (!response.ok) throw new EngineError(`Could not load the app's build manifest (${response.status}).`);
  return response.json();
}

/**
 * Checks `settings.threads`, downloads (or takes from the cache) the weights reporting
 * {stage: 'weights', loaded, total, cached} to `settings.onStatus`, then waits for
 * `settings.startAfter`. Resolves to {weights: {vgg, fast} (ArrayBuffers), engines: {webgpu,
 * cpu} (each {glue, wasm, bytes}, absolute URLs), threads}; rejects with AbortError as soon as
 * `settings.signal` aborts.
 */
export async function prepare(settings) {
  const { signal } = settings;
  const onStatus = settings.onStatus ?? (() => {});
  const threads = threadCount(settings.threads);
  const manifest = await untilAborted(buildManifest(), signal);
  const files = Object.entries(manifest.weights).map(([network, file]) => ({
    network,
    url: settings.weights?.[network]?.url ?? new URL(file.url, BUILD).href,
    sha256: settings.weights?.[network]?.sha256 ?? file.sha256,
    // The size of the build's own file (another file's is unknown until it arrives).
    bytes: settings.weights?.[network]?.url ? 0 : file.bytes,
    total: file.bytes,
    loaded: 0,
    cached: false,
  }));
  // One progress for both files: the user sees one model download. Once one file has failed
  // (or the caller aborted), the other's download goes quiet: the error is the last word.
  let failed = false;
  const report = () => {
    if (failed || signal?.aborted) return;
    onStatus({
      stage: 'weights',
      loaded: files.reduce((sum, f) => sum + f.loaded, 0),
      total: files.reduce((sum, f) => sum + f.total, 0),
      cached: files.every((f) => f.cached),
    });
  };
  const loaded = await untilAborted(
    Promise.all(
      files.map((file) =>
        loadWeights(
          file.url,
          file.sha256,
          (loaded, total, cached) => {
            Object.assign(file, { loaded, total, cached });
            report();
          },
          file.bytes,
        ).catch((error) => {
          failed = true;
          throw error;
        }),
      ),
    ),
    signal,
  );
  const weights = Object.fromEntries(files.map((file, i) => [file.network, loaded[i]]));
  await untilAborted(Promise.resolve(settings.startAfter).catch(() => {}), signal);
  // Both modules' files; the worker downloads only the one it runs (WebGPU's, else the CPU's).
  const engines = Object.fromEntries(
    Object.entries(manifest.engines).map(([kind, e]) => [
      kind,
      { glue: new URL(e.glue, BUILD).href, wasm: new URL(e.wasm, BUILD).href, bytes: e.bytes },
    ]),
  );
  return { weights, engines, threads };
}

/** The most threads the CPU engine starts by default: past 8 the pool's memory and start-up outgrow its gain. */
const MAX_DEFAULT_THREADS = 8;

/** The CPU engine's thread count from createStylizer's `threads`: a whole number ≥ 1, by default the cores, up to 8. */
function threadCount(threads) {
  if (threads === undefined || threads === null) {
    return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_DEFAULT_THREADS));
  }
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new OptionsError(`threads must be a whole number from 1 to 64 (got ${JSON.stringify(threads)}).`);
  }
  return threads;
}
