// Showing a picture and offering it for download: shared by the page and the widget.

/** Draws `image` (ImageData) on `canvas`, sized to it. */
export function drawImage(canvas, image) {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d', { willReadFrequently: true }).putImageData(image, 0, 0);
}

/** Points `link` at a PNG of `canvas` at its full size and shows it. */
export function offerDownload(canvas, link) {
  canvas.toBlob((blob) => {
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(blob);
    link.hidden = false;
  }, 'image/png');
}
