// The service worker: the app works offline after one visit. Its URL never changes; what a
// build changes arrives through pkg/shell.js, which the browser checks for updates too.
//
// - install: caches the small app-shell files (SHELL_FILES) in `shell-<version>`; nothing
//   large is fetched here.
// - the wasm is cached in the same cache when the page first fetches it through this worker
//   or asks for it ({type: 'cache-wasm'}) after the engine has started; the weights are
//   cached by the page itself in WEIGHTS_CACHE under their content-hashed name (weights.js).
// - activate: deletes every cache of an older version.
// - a new version waits until the page, after asking the user, sends {type: 'skip-waiting'}.

importScripts('./pkg/shell.js');

const SHELL_CACHE = `shell-${self.SHELL_VERSION}`;
const WEIGHTS_CACHE = 'style-transfer-weights-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) =>
      cache.addAll(self.SHELL_FILES.map((file) => new Request(file, { cache: 'reload' }))),
    ),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== SHELL_CACHE && name !== WEIGHTS_CACHE) await caches.delete(name);
      }
      // Weights of other builds: only the current content-hashed file is kept.
      const weights = await caches.open(WEIGHTS_CACHE);
      const current = new URL(self.WEIGHTS_FILE, self.registration.scope).href;
      for (const request of await weights.keys()) {
        if (request.url !== current) await weights.delete(request);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
  // The page asks once the engine has started: from then on the wasm is kept.
  if (event.data?.type === 'cache-wasm') {
    event.waitUntil(
      cacheWasm().then(
        () => event.ports[0]?.postMessage({ ok: true }),
        (error) => event.ports[0]?.postMessage({ ok: false, message: String(error) }),
      ),
    );
  }
});

async function cacheWasm() {
  const shell = await caches.open(SHELL_CACHE);
  if (!(await shell.match(self.WASM_FILE))) await shell.add(self.WASM_FILE);
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(respond(request, url));
});

async function respond(request, url) {
  const shell = await caches.open(SHELL_CACHE);
  const cached =
    (await shell.match(request, { ignoreSearch: request.mode === 'navigate' })) ??
    (await caches.match(request, { cacheName: WEIGHTS_CACHE }));
  if (cached) return cached;
  const response = await fetch(request);
  // The wasm is large: cached on first use, never at install.
  if (response.ok && url.href === new URL(self.WASM_FILE, self.registration.scope).href) {
    await shell.put(request, response.clone());
  }
  return response;
}
