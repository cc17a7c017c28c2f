// Images in: a File, Blob, ImageBitmap, ImageData, or a video's or camera's frame checked and turned into RGBA pixels at
// the size the engine needs. Runs on the page's thread (the browser's decoders live there).

/** An input could not be used as an image. */
export class ImageInputError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ImageInputError';
  }
}

/** Largest picture accepted before scaling, in pixels (the browser decodes it first). */
export const MAX_PIXELS = 100_000_000;

/**
 * An image as `{width, height, data}` (RGBA bytes), scaled down so its longer side is at most
 * `maxSide` (never up: the engine does the exact resize).
 */
export async function toPixels(source, what, maxSide) {
  let bitmap = source;
  if (source instanceof Blob) bitmap = await decode(source, what);
  else if (!drawable(source)) {
    throw new ImageInputError(`The ${what} image must be an ImageBitmap, ImageData, Blob, VideoFrame, video or canvas.`);
  }
  const { width, height } = sizeOf(bitmap);
  checkSize({ width, height }, what);
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = new OffscreenCanvas(w, h);
  // CPU-backed: reading pixels back must not wait on a GPU process busy with the engine.
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.imageSmoothingQuality = 'high';
  if (bitmap instanceof ImageData) {
    if (scale === 1) return { width, height, data: new Uint8ClampedArray(bitmap.data) };
    context.drawImage(await createImageBitmap(bitmap), 0, 0, w, h);
  } else {
    context.drawImage(bitmap, 0, 0, w, h);
  }
  const pixels = context.getImageData(0, 0, w, h);
  return { width: w, height: h, data: pixels.data };
}

/** Whether `source` is a picture toPixels() takes as it is (a camera's or a video's frame too). */
function drawable(source) {
  const kinds = ['ImageBitmap', 'ImageData', 'VideoFrame', 'OffscreenCanvas', 'HTMLCanvasElement', 'HTMLVideoElement', 'HTMLImageElement'];
  return kinds.some((kind) => globalThis[kind] && source instanceof globalThis[kind]);
}

/** A drawable's picture size: a frame's as displayed, a video's own, else width × height. */
function sizeOf(source) {
  if (globalThis.VideoFrame && source instanceof VideoFrame) return { width: source.displayWidth, height: source.displayHeight };
  if (globalThis.HTMLVideoElement && source instanceof HTMLVideoElement) return { width: source.videoWidth, height: source.videoHeight };
  return { width: source.width, height: source.height };
}

/** Largest picture file fetched from a URL, in bytes: a 100-megapixel photo's JPEG is far smaller. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Fetches and decodes the picture at `url` (any site's: the widget's `style-src`); `label`
 * names it in the error. The bytes are fetched with CORS and decoded here, never drawn from
 * another origin, so no canvas is ever tainted.
 */
export async function fetchImage(url, what, label) {
  let response;
  try {
    response = await fetch(url);
  } catch {
    // The browser says no more, on purpose: a site that does not allow others to read its
    // files (no CORS headers, or a redirect to one), a page whose Content-Security-Policy
    // refuses that site, and a server that is down look the same.
    throw new ImageInputError(
      `Could not load the ${what} ${label}: the server did not answer, or does not let other sites use its pictures (CORS), or this page's Content-Security-Policy refuses it.`,
    );
  }
  if (!response.ok) throw new ImageInputError(`Could not load the ${what} ${label} (${response.status}).`);
  const tooLarge = (bytes) =>
    new ImageInputError(`The ${what} ${label} is too large (${Math.round(bytes / 1e6)} MB or more); the limit is ${MAX_FILE_BYTES / 2 ** 20} MB.`);
  const declared = Number(response.headers.get('content-length'));
  if (declared > MAX_FILE_BYTES) {
    response.body?.cancel().catch(() => {});
    throw tooLarge(declared);
  }
  // Counted as it comes: a server may declare no length, or a compressed one.
  const reader = response.body.getReader();
  const chunks = [];
  let bytes = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    bytes += chunk.value.byteLength;
    if (bytes > MAX_FILE_BYTES) {
      reader.cancel().catch(() => {});
      throw tooLarge(bytes);
    }
    chunks.push(chunk.value);
  }
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  return decode(new Blob(chunks, { type }), what);
}

/**
 * Decodes a file with the browser (EXIF orientation respected; an animation's first frame).
 * A picture over MAX_PIXELS is refused from its header, before the browser decodes it.
 */
export async function decode(blob, what = 'chosen') {
  if (blob.size === 0) throw new ImageInputError(`The ${what} file is empty.`);
  if (blob.type === 'image/svg+xml') {
    throw new ImageInputError(`The ${what} file is an SVG drawing; save it as PNG or JPEG first.`);
  }
  const declared = headerSize(new Uint8Array(await blob.slice(0, 64 * 1024).arrayBuffer()));
  if (declared) checkSize(declared, what);
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new ImageInputError(
      `The ${what} file is not an image this browser can read (corrupt, too large, or not a JPEG, PNG, WebP, GIF or AVIF).`,
    );
  }
  checkSize(bitmap, what);
  return bitmap;
}

function checkSize({ width, height }, what) {
  if (!width || !height) throw new ImageInputError(`The ${what} image is empty.`);
  if (width * height > MAX_PIXELS) {
    throw new ImageInputError(
      `The ${what} image is too large (${width}×${height}); the limit is ${MAX_PIXELS / 1e6} megapixels.`,
    );
  }
}

/**
 * The width and height a PNG, GIF, JPEG or WebP file declares in its header, or null when
 * the format is another or the header is cut short (the decoder then has the last word).
 */
export function headerSize(b) {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ascii = (at, n) => String.fromCharCode(...b.subarray(at, at + n));
  if (b.length >= 24 && b[0] === 0x89 && ascii(1, 3) === 'PNG') {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (b.length >= 10 && ascii(0, 4) === 'GIF8') {
    return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (b.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const chunk = ascii(12, 4);
    if (chunk === 'VP8X') {
      const u24 = (at) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
      return { width: u24(24) + 1, height: u24(27) + 1 };
    }
    if (chunk === 'VP8L') {
      const bits = view.getUint32(21, true);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8 ') return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    return null;
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // Walk the JPEG segments to the first start-of-frame marker.
    let at = 2;
    while (at + 9 < b.length && b[at] === 0xff) {
      const marker = b[at + 1];
      const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
      if (isFrame) return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
      at += 2 + view.getUint16(at + 2);
    }
  }
  return null;
}
