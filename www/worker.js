// The module Web Worker that owns the wasm engine. Messages in: {type: 'init', weights, backend}
// and {type: 'stylize', content, styles, options}. Messages out: {type: 'ready', backend},
// {type: 'progress', progress}, {type: 'done', result} and {type: 'error', message}.

import init, { Engine } from './pkg/style_transfer.js';

let engine = null;

// Keep hold of the GPU device that the engine asks for, so that when the browser loses it
// (a driver reset, a GPU unplugged, or `gpuDevice.destroy()`) the run stops with a clear
// message instead of hanging; the page then starts a fresh worker for the next run.
if (navigator.gpu) {
  const requestAdapter = navigator.gpu.requestAdapter.bind(navigator.gpu);
  navigator.gpu.requestAdapter = async (...args) => {
    const adapter = await requestAdapter(...args);
    if (adapter) {
      const requestDevice = adapter.requestDevice.bind(adapter);
      adapter.requestDevice = async (...options) => {
        const device = await requestDevice(...options);
        self.gpuDevice = device;
        device.lost.then((info) => {
          self.postMessage({
            type: 'error',
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
