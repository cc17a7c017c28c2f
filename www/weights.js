// The weight file: downloaded once with progress, checked by SHA-256, kept in the Cache API
// under its content-hashed URL so the next visit does not download it again.

/** The cache that holds the weights (the service worker uses the same one). */
export const WEIGHTS_CACHE = 'style-transfer-weights-v1';

/** The weights are missing, truncated or altered. */
export class WeightsError extends Error {
  constructor(message) {
    super(message);
    this.name = 'WeightsError';
  }
}

/**
 * How far a download is, in bytes on the wire: `loaded` bytes of a body of `size` bytes
 * (0 when unknown) have arrived, sent as `contentLength` bytes (0 when the response did not
 * say). With Content-Encoding the browser hands over the decoded body while Content-Length
 * counts the compressed one, so the share of the body read is scaled to the compressed size.
 * @returns {{loaded: number, total: number}}
 */
export function onTheWire(loaded, size, contentLength) {
  if (!contentLength) return { loaded, total: size || loaded };
  if (!size || size === contentLength) return { loaded, total: Math.max(contentLength, loaded) };
  return { loaded: Math.round(Math.min(1, loaded / size) * contentLength), total: contentLength };
}

/**
 * The verified bytes of `url` (the same promise for every caller on the page). `size` is
 * the file's size in bytes when known (the build manifest's), for progress on the wire.
 * @param {(loaded: number, total: number, cached: boolean) => void} onProgress  bytes on the
 *        wire (the file's own size when it comes from the cache)
 * @returns {Promise<ArrayBuffer>}
 */
export function loadWeights(url, sha256, onProgress = () => {}, size = 0) {
  // Several stylizers on one page (two widgets) share one download.
  // The first caller sees the real progress; later ones one report once the bytes are there.
  const key = `${url} ${sha256}`;
  if (!pending.has(key)) {
    const load = fetchVerified(url, sha256, onProgress, size).catch((error) => {
      pending.delete(key);
      throw error;
    });
    pending.set(key, load);
    return load;
  }
  return pending.get(key).then((bytes) => {
    onProgress(bytes.byteLength, bytes.byteLength, true);
    return bytes;
  });
}

const pending = new Map();

async function fetchVerified(url, sha256, onProgress, size) {
  // No Cache API (an insecure page), or storage refused (private browsing): from the network.
  const cache = 'caches' in globalThis ? await caches.open(WEIGHTS_CACHE).catch(() => null) : null;
  const hit = await storage(() => cache?.match(url));
  const kept = hit && (await storage(() => hit.arrayBuffer()));
  if (kept && (await digest(kept)) === sha256) {
    await storage(() => removeOtherVersions(cache, url));
    onProgress(kept.byteLength, kept.byteLength, true);
    return kept;
  }
  // A damaged copy (its checksum is not the file's) is replaced.
  if (hit) await storage(() => cache.delete(url));
  const bytes = await download(url, onProgress, size);
  const actual = await digest(bytes);
  if (actual !== sha256) {
    throw new WeightsError(
      `The model weights from ${url} are damaged or incomplete (${bytes.byteLength} bytes, SHA-256 ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…). Reload to try again.`,
    );
  }
  // Not kept (storage full, private browsing): the page runs on, and says it will not work
  // offline (offline.js).
  if (cache) {
    await storage(async () => {
      await cache.put(url, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
      await removeOtherVersions(cache, url);
    });
  }
  return bytes;
}

/**
 * What `work` gives, or null when the Cache API fails (a full or refused storage, an entry
 * evicted while it was read): keeping the weights is never what stops them being used.
 */
async function storage(work) {
  try {
    return (await work()) ?? null;
  } catch {
    return null;
  }
}

/**
 * `…/vgg16-int8.<16 hex digits>.safetensors` → `…/vgg16-int8.safetensors`: the builds of one
 * weight file differ only in their content hash.
 */
function family(url) {
  return url.replace(/\.[0-9a-f]{16}(\.[^./?#]+)$/, '$1');
}

/**
 * Deletes the cached copies of other builds of `url`'s file. On the app's own origin the
 * service worker does this too; a widget on another site's origin has only this.
 */
async function removeOtherVersions(cache, url) {
  for (const request of await cache.keys()) {
    if (request.url !== url && family(request.url) === family(url)) await cache.delete(request);
  }
}

async function download(url, onProgress, size) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new WeightsError(`Could not download the model weights (${error.message}).`);
  }
  if (!response.ok) {
    throw new WeightsError(`Could not download the model weights: ${response.status} ${response.statusText}.`);
  }
  const contentLength = Number(response.headers.get('content-length')) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    const wire = onTheWire(loaded, size, contentLength);
    onProgress(wire.loaded, wire.total, false);
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}

async function digest(bytes) {
  const hash = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
