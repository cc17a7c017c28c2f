// The service worker: the app works offline after one visit. Its URL never changes; what a
// build changes arrives through pkg/shell.js, which the browser checks for updates too.
//
// - install: caches the whole app of one build in `shell-<version>` — the page's files, the
//   build manifest, and the engine's glue and wasm under their content-hashed names — each
//   checked against its SHA-256 (subresource integrity), so a deploy during the install
//   fails the install instead of caching files of two builds. The page waits for this on its
//   first visit before starting the engine, so the wasm is downloaded once.
// - the weights are cached by the page itself in WEIGHTS_CACHE under their content-hashed
//   name (weights.js); this worker serves them from there.
// - activate: deletes every cache of an older version and older weight files.
// - a new version waits until the page, after asking the user, sends {type: 'skip-waiting'}.
// - the development server (`node www/serve.mjs`) sets self.NETWORK_FIRST: every file then
//   comes from the server while it answers, so edits show on reload.

importScripts('./pkg/shell.js');

const SHELL_CACHE = `shell-${self.SHELL_VERSION}`;
const WEIGHTS_CACHE = 'style-transfer-weights-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) =>
      cache.addAll(self.SHELL_FILES.map(({ url, integrity }) => new Request(url, { cache: 'reload', integrity }))),
    ),
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
  event.respondWith(self.NETWORK_FIRST ? fromNetwork(request) : fromCache(request));
});

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
