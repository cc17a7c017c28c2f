// The page's result area: the picture as it forms, the veil of a tiled step, the loss plot,
// the before/after comparison and the download and share links.

import { drawImage, offerDownload, withdrawDownload } from './result.js';

const $ = (id) => document.getElementById(id);

/** Draws `image` (an ImageBitmap, canvas or image) on `canvas`, sized to it. */
export function drawInto(canvas, image) {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d').drawImage(image, 0, 0);
}

/** The loss over the steps, on a log scale. */
export function plotLosses(losses) {
  const canvas = $('loss-plot');
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  const values = losses.map(Math.log10);
  if (values.length < 2) return;
  const [min, max] = [Math.min(...values), Math.max(...values)];
  context.strokeStyle = getComputedStyle(document.body).getPropertyValue('--accent') || '#c2410c';
  context.lineWidth = 2;
  context.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * (canvas.width - 4) + 2;
    const y = canvas.height - 4 - ((v - min) / (max - min || 1)) * (canvas.height - 8);
    i ? context.lineTo(x, y) : context.moveTo(x, y);
  });
  context.stroke();
}

/** A picture on the output canvas, counted in its `data-frames`. */
export function showFrame(image) {
  $('compare').hidden = false;
  const canvas = $('output');
  drawImage(canvas, image);
  canvas.dataset.frames = String(Number(canvas.dataset.frames) + 1);
}

/**
 * During a tiled step, veils the part of the picture whose tiles are still to come, so the
 * step is seen sweeping across it (its pixels change when the step ends); `null` lifts the veil.
 * Tiles run in order, so tiles 1 … done are finished; `regions` holds their rectangles.
 */
export function showTiles(p, regions) {
  const veil = $('tiles');
  veil.hidden = !p;
  if (!p) return;
  const output = $('output');
  veil.width = output.width;
  veil.height = output.height;
  veil.dataset.done = String(p.tile.done);
  const context = veil.getContext('2d');
  context.fillStyle = 'rgba(0, 0, 0, 0.45)';
  context.fillRect(0, 0, veil.width, veil.height);
  const [sx, sy] = [veil.width / p.width, veil.height / p.height];
  for (const r of regions) context.clearRect(r.x * sx, r.y * sy, r.width * sx, r.height * sy);
}

/** Before a run: no download or comparison of the last result, the comparison reset. */
export function clearResult() {
  for (const id of ['download', 'download-jpeg']) withdrawDownload($(id));
  $('share').hidden = true;
  $('compare-control').hidden = true;
  $('compare-position').value = 100;
  $('before').style.clipPath = '';
}

/** A finished picture: shown, compared with `photo`, offered for download. */
export function showResult(image, photo, onError) {
  showFrame(image);
  drawInto($('before'), photo);
  $('compare-control').hidden = false;
  offerResult(onError);
}

/**
 * Download links (PNG, and JPEG for a smaller file) and, where the browser can, Share;
 * `onError(message)` when sharing fails.
 */
export function offerResult(onError) {
  const output = $('output');
  const png = offerDownload(output, $('download'), 'image/png');
  offerDownload(output, $('download-jpeg'), 'image/jpeg');
  const share = $('share');
  share.hidden = true;
  png
    .then((file) => {
      // The download's PNG: none when a newer result or clearResult() withdrew it.
      if (!file || !navigator.canShare?.({ files: [file] })) return;
      share.hidden = false;
      share.onclick = () =>
        navigator.share({ files: [file], title: 'Stylized picture' }).catch((error) => {
          if (error.name !== 'AbortError') onError(`Sharing failed: ${error.message}`);
        });
    })
    .catch(() => {}); // no file: no Share button (the download links say why)
}
