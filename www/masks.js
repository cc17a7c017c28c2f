// Masks in: where each painting goes and where the photo is kept, as one byte a pixel (255 =
// this painting, or kept), scaled to the size the engine needs. Runs on the page's thread.

import { toPixels } from './images.js';

/**
 * Whether `source` is a mask this module reads: ImageData, an ImageBitmap, a canvas (on the
 * page or offscreen), or one byte a pixel as `{width, height, data: Uint8Array}`.
 */
export function isMask(source) {
  const picture = source instanceof ImageData || source instanceof ImageBitmap || isCanvas(source);
  return (picture && source.width > 0 && source.height > 0) || isGrey(source);
}

const isCanvas = (s) =>
  (typeof HTMLCanvasElement !== 'undefined' && s instanceof HTMLCanvasElement) ||
  (typeof OffscreenCanvas !== 'undefined' && s instanceof OffscreenCanvas);

const isGrey = (s) =>
  s?.data instanceof Uint8Array &&
  Number.isInteger(s.width) && Number.isInteger(s.height) && s.width > 0 && s.height > 0 &&
  s.data.length === s.width * s.height;

/**
 * A mask (see isMask) as `{width, height, data: Uint8Array}`, one byte a pixel, scaled down
 * so its longer side is at most `maxSide`. A picture's value is its luminance times its
 * opacity, as the engine reads RGBA (white paint on a transparent canvas reads as drawn).
 */
export async function maskPixels(source, what, maxSide) {
  if (isGrey(source) && Math.max(source.width, source.height) <= maxSide) {
    return { width: source.width, height: source.height, data: new Uint8Array(source.data) };
  }
  let picture = source;
  if (isGrey(source)) {
    const rgba = new Uint8ClampedArray(4 * source.data.length);
    source.data.forEach((v, i) => rgba.set([v, v, v, 255], 4 * i));
    picture = new ImageData(rgba, source.width, source.height);
  } else if (isCanvas(source)) {
    picture = await createImageBitmap(source);
  }
  const { width, height, data } = await toPixels(picture, what, maxSide);
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) {
    const [r, g, b, a] = data.subarray(4 * i, 4 * i + 4);
    grey[i] = Math.round((0.2126 * r + 0.7152 * g + 0.0722 * b) * (a / 255));
  }
  return { width, height, data: grey };
}
