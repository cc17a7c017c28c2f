// The installed app: registers the service worker (www/sw.js), offers its updates, and says
// when the app works offline.

const $ = (id) => document.getElementById(id);

/**
 * Registers the service worker and offers updates. Resolves to true once it controls the
 * page (its install has cached the app shell), false when there is none or its install
 * failed; the engine starts after that, so the service worker keeps the engine module the
 * worker loads as it comes, and its files come once.
 */
export async function setUpOffline() {
  if (!('serviceWorker' in navigator)) return false;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload();
  });
  const registration = await navigator.serviceWorker.register('sw.js');
  registration.update().catch(() => {}); // offline: nothing to compare with
  const offer = (worker) => {
    $('update').hidden = false;
    $('update-reload').onclick = () => {
      reloading = true;
      worker.postMessage({ type: 'skip-waiting' });
    };
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  });
  if (navigator.serviceWorker.controller) return true;
  // First visit: wait for the install, or its failure.
  return new Promise((resolve) => {
    navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), { once: true });
    const installing = registration.installing ?? registration.waiting;
    installing?.addEventListener('statechange', () => {
      if (installing.state !== 'redundant') return;
      notOffline('the app could not be saved for offline use (a download failed, storage is full or refused, or a new version arrived meanwhile); it runs from the network.');
      resolve(false);
    });
    // Nothing installing yet no controller (a hard reload): start from the network.
    if (!installing) resolve(false);
  });
}

/** Says, once, why the app will not work offline (it runs on from the network). */
export function notOffline(why) {
  if (document.body.dataset.offline) return;
  $('offline-status').textContent = `Offline use is not available: ${why}`;
  document.body.dataset.offline = 'unavailable';
}

/**
 * Says that the app works offline, once the service worker, the weights and the running
 * engine's module (`backend`'s, kept by the service worker once it has arrived whole) are in
 * place; or that it does not, when the browser did not keep them (storage full or refused).
 */
export async function reportOffline(backend) {
  const build = await (await fetch('pkg/build.json')).json();
  const { glue, wasm } = build.engines[backend];
  const kept = async (files) => (await Promise.all(files.map((f) => caches.match(`pkg/${f}`).catch(() => null)))).every(Boolean);
  const refused = 'the browser did not keep the model or the engine (storage full or refused); the next visit downloads them again.';
  // The weights are kept before the engine starts; the module once it has arrived whole.
  if (!(await kept(Object.values(build.weights).map((w) => w.url)))) return notOffline(refused);
  for (let wait = 0; !(await kept([glue, wasm])); wait++) {
    if (wait === 300) return notOffline(refused);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const persisted = (await navigator.storage?.persist?.().catch(() => false)) ?? false;
  $('offline-status').textContent = persisted
    ? 'Ready to work offline.'
    : 'Ready to work offline (the browser may clear the saved model when space runs low).';
  document.body.dataset.offline = 'ready';
}
