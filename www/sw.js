// The service worker: the app works offline after one visit. Its URL never changes; what a
// build changes arrives through pkg/shell.js, which the browser checks for updates too.
//
// - install: caches the app of one build in `shell-<version>` — the page's files, the build
//   manifest, and the engine module this browser runs (WebGPU's where it gives an adapter,
//   else the CPU's with its thread-pool helper) under their content-hashed names — each
//   checked against its SHA-256 (subresource integrity), so a deploy during the install fails
//   the install instead of caching files of two builds. The page waits for this on its first
//   visit before starting the engine, so the module is downloaded once, and the other never.
// - the other module, should the engine's worker load it after all (WebGPU that gives no
//   device), is kept in the same cache as it first comes, if its SHA-256 is this build's.
// - the weights are cached by the page itself in WEIGHTS_CACHE under their content-hashed
//   name (weights.js); this worker serves them from there.
// - activate: deletes every cache of an older version and older weight files.
// - a new version waits until the page, after asking the user, sends {type: 'skip-waiting'}.
// - the development server (`node www/serve.mjs`) sets self.NETWORK_FIRST: every file then
//   comes from the server while it answers, so edits show on reload.

importScripts('./pkg/shell.js');

const SHELL_CACHE = `shell-${self.SHELL_VERSION}`;
const WEIGHTS_CACHE = 'style-transfer-weights-v1';
/** The engine modules' files by absolute URL, with their SHA-256 (`sha256-<base64>`). */
const ENGINE_FILES = new Map(
  Object.values(self.ENGINE_FILES)
    .flat()
    .map(({ url, integrity }) => [new URL(url, self.registration.scope).href, integrity]),
);

/**
 * The engine module the worker will load here: 'webgpu' where WebGPU gives an adapter (within
 * a few seconds: an install must not hang on it), else 'cpu'. Should the worker decide
 * otherwise, the fetch handler keeps that module as it first comes.
 */
async function engineKind() {
  try {
    const none = new Promise((resolve) => setTimeout(() => resolve(null), 5000));
    if (self.navigator.gpu && (await Promise.race([self.navigator.gpu.requestAdapter(), none]))) return 'webgpu';
  } catch {
    // no adapter: the CPU module
  }
  return 'cpu';
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const files = [...self.SHELL_FILES, ...self.ENGINE_FILES[await engineKind()]];
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(files.map(({ url, integrity }) => new Request(url, { cache: 'reload', integrity })));
    })(),
  );
  if (self.NETWORK_FIRST) self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== SHELL_CACHE && name !== WEIGHTS_CACHE) await caches.delete(name);
      }
      // Weights of other builds: only this build's content-hashed files are kept.
      const weights = await caches.open(WEIGHTS_CACHE);
      const current = self.WEIGHTS_FILES.map((file) => new URL(file, self.registration.scope).href);
      for (const request of await weights.keys()) {
        if (!current.includes(request.url)) await weights.delete(request);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (ENGINE_FILES.has(url.href)) event.respondWith(engineFile(event, ENGINE_FILES.get(url.href)));
  else event.respondWith(self.NETWORK_FIRST ? fromNetwork(request) : fromCache(request));
});

/**
 * An engine module's file: from the cache (in development, only when the network fails), else
 * from the network as it streams (the worker compiles the wasm while it arrives), kept once
 * its bytes are found to have `integrity`.
 */
async function engineFile(event, integrity) {
  const { request } = event;
  if (!self.NETWORK_FIRST) {
    const hit = await cached(request);
    if (hit) return hit;
  }
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const hit = await cached(request);
    if (hit) return hit;
    throw error;
  }
  if (response.ok && response.type === 'basic') {
    const [copy, kept] = [response.clone(), response.clone()];
    event.waitUntil(
      (async () => {
        const digest = await crypto.subtle.digest('SHA-256', await copy.arrayBuffer());
        const base64 = btoa(String.fromCharCode(...new Uint8Array(digest)));
        if (`sha256-${base64}` === integrity) await (await caches.open(SHELL_CACHE)).put(request.url, kept);
      })().catch(() => {}),
    );
  }
  return response;
}

async function cached(request) {
  const shell = await caches.open(SHELL_CACHE);
  return (
    (await shell.match(request, { ignoreSearch: request.mode === 'navigate' })) ??
    (await caches.match(request, { cacheName: WEIGHTS_CACHE }))
  );
}

async function fromCache(request) {
  return (await cached(request)) ?? fetch(request);
}

async function fromNetwork(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const hit = await cached(request);
    if (hit) return hit;
    throw error;
  }
}
