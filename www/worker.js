// The module Web Worker that owns the wasm engine. Messages in: {type: 'init', weights, backend}
// and {type: 'stylize', content, styles, options}. Messages out: {type: 'ready', backend},
// {type: 'progress', progress}, {type: 'done', result} and {type: 'error', message}.

import init, { Engine } from './pkg/style_transfer.js';

let engine = null;

self.onmessage = async ({ data }) => {
  try {
    if (data.type === 'init') {
      await init();
      const backend = await chooseBackend(data.backend);
      engine = await Engine.create(new Uint8Array(data.weights), backend);
      self.postMessage({ type: 'ready', backend: engine.backend });
    } else if (data.type === 'stylize') {
      const result = await engine.stylize(data.content, data.styles, data.options, (progress) => {
        self.postMessage({ type: 'progress', progress }, progress.image ? [progress.image.data.buffer] : []);
      });
      self.postMessage({ type: 'done', result }, [result.data.buffer]);
    }
  } catch (error) {
    self.postMessage({ type: 'error', message: String(error?.message ?? error) });
  }
};

/** 'webgpu' when asked for and an adapter exists; 'cpu' otherwise (an error if WebGPU was required). */
async function chooseBackend(requested) {
  if (requested === 'cpu') return 'cpu';
  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter().catch(() => null) : null;
  if (adapter) return 'webgpu';
  if (requested === 'webgpu') throw new Error('WebGPU is not available in this browser.');
  return 'cpu';
}
