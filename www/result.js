// Showing a picture and offering it for download: shared by the page and the widget.

/** Draws `image` (ImageData) on `canvas`, sized to it. */
export function drawImage(canvas, image) {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d', { willReadFrequently: true }).putImageData(image, 0, 0);
}

/** The picture on `canvas` at its full size as a file: PNG, or JPEG at quality 0.92. */
function toFile(canvas, type = 'image/png', name = 'stylized') {
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(new File([blob], `${name}.${type === 'image/jpeg' ? 'jpg' : 'png'}`, { type })) : reject(new Error('The picture could not be encoded.'))),
      type,
      0.92,
    ));
}

/** The latest offer made on each link: an offer withdrawn or replaced while encoding is dropped. */
const offers = new WeakMap();

/**
 * Points `link` at the picture on `canvas` at its full size (PNG or JPEG) and shows it;
 * resolves to the file, or to null when the offer was withdrawn or replaced meanwhile.
 */
export async function offerDownload(canvas, link, type = 'image/png') {
  const offer = {};
  offers.set(link, offer);
  const file = await toFile(canvas, type);
  if (offers.get(link) !== offer) return null;
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(file);
  link.download = file.name;
  link.hidden = false;
  return file;
}

/** Hides `link`, and keeps an offer still being encoded from showing it again. */
export function withdrawDownload(link) {
  offers.delete(link);
  link.hidden = true;
}
