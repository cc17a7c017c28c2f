// Moving pictures on the page: the camera painted live by the feed-forward network, and a
// video file stylized frame by frame to a downloadable WebM.

import { closeCamera, openCamera, paintLive, snapshot } from './camera.js';
import { drawImage, withdrawDownload } from './result.js';
import { AbortError } from './stylizer.js';

const $ = (id) => document.getElementById(id);

/**
 * Wires Live and Video. `page` gives what they need of the page: `stylizer()`, `styles()` (the
 * chosen paintings as paintFrame() takes them), `options()` (the settings' engine options),
 * `capture(bitmap)` (a frame kept as the photo, then refined as a photo is), `showMessage`,
 * `stepTime(width, height, options)` and `seconds(ms)` (the estimate of refined frames),
 * and `busy(isBusy)` (true when Live or a video starts, false when it ends: the page's buttons
 * follow).
 */
export function wireMoving(page) {
  const live = createLive(page);
  $('live').addEventListener('click', () => live.start());
  $('live-stop').addEventListener('click', () => live.stop());
  $('live-capture').addEventListener('click', () => live.capture());
  // A hidden tab stops the camera and the loop (the browser would throttle them anyway).
  document.addEventListener('visibilitychange', () => document.hidden && live.stop());
  wireVideo(page);
  return live;
}

/** The live camera view: one frame in the engine at a time, the newest one; the rest dropped. */
function createLive(page) {
  let session = null;

  async function start() {
    if (session) return;
    page.showMessage('');
    if (!page.stylizer() || !page.styles().length) {
      page.showMessage('Choose a painting first: Live paints the camera in its style.');
      return;
    }
    const controller = new AbortController();
    const current = { controller, stream: null };
    session = current;
    page.busy(true); // from the camera's prompt on: one moving picture at a time
    try {
      current.stream = await openCamera();
    } catch (error) {
      stop(current);
      page.showMessage(error.message);
      return;
    }
    if (session !== current) return closeCamera(current.stream); // stopped while the prompt was open
    const video = $('live-video');
    video.srcObject = current.stream;
    video.play().catch(() => {});
    $('live-view').hidden = false;
    $('live-stats').textContent = 'Starting…';
    $('live-stop').focus(); // Live is disabled now: the focus goes where the user stops it
    const canvas = $('live-canvas');
    const paint = (frame) => page.stylizer().paintFrame(frame, page.styles(), { options: liveOptions(page), signal: controller.signal });
    const shown = ({ fps }) => {
      canvas.dataset.frames = String(Number(canvas.dataset.frames) + 1);
      $('live-stats').textContent =
        `${fps.toFixed(1)} frames a second · ${Math.round(page.stylizer().frameTime)} ms a frame in the engine · ${canvas.width}×${canvas.height} px`;
    };
    paintLive(video, canvas, paint, controller.signal, shown).catch((error) => {
      if (!(error instanceof AbortError)) page.showMessage(`Live painting stopped: ${error.message}`);
      stop(current);
    });
  }

  /** Stops `which` session (the current one by default), releasing the camera; later calls do nothing. */
  function stop(which = session) {
    if (!which || which !== session) return;
    session = null;
    which.controller.abort(new AbortError('Live painting was stopped.'));
    closeCamera(which.stream);
    $('live-video').srcObject = null;
    const focused = $('live-view').contains(document.activeElement);
    $('live-view').hidden = true;
    page.busy(false);
    if (focused) $('live').focus();
  }

  async function capture() {
    if (!session) return;
    let bitmap;
    try {
      bitmap = await snapshot($('live-video'));
    } catch (error) {
      page.showMessage(`The frame could not be captured: ${error.message}`);
      return;
    }
    stop();
    page.capture(bitmap);
  }

  return { start, stop: () => stop(), capture };
}

/** The settings' options for frames: the network alone, at the live size. */
function liveOptions(page) {
  const { fastStrength, colors } = page.options();
  return { size: Number($('live-size').value), fastStrength, colors, iterations: 0 };
}

/** "Stylize a video": a file in, its frames painted and encoded, a download out. */
function wireVideo(page) {
  let running = null;
  const input = $('video-input');
  const run = async (file) => {
    // Disabled: no engine or painting yet, or Live or a run going on (a drop too).
    if (running || !file || input.disabled) return;
    page.showMessage('');
    if (!page.stylizer() || !page.styles().length) {
      page.showMessage('Choose a painting first: the video is painted in its style.');
      return;
    }
    const controller = new AbortController();
    running = controller;
    page.busy(true);
    $('video-cancel').disabled = false;
    $('video-cancel').focus(); // the file input is disabled now: the focus goes where the user cancels
    withdrawDownload($('video-download'));
    const bar = $('video-progress');
    Object.assign(bar, { hidden: false, value: 0, max: 1 });
    // The status is said once at the start and once at the end; the count of frames beside the
    // bar changes every frame, too often for a screen reader.
    $('video-status').textContent = `Painting ${file.name || 'the video'}…`;
    $('video-frames').textContent = '';
    const { fastStrength, colors } = page.options();
    const options = { size: Number($('video-size').value), iterations: Number($('video-steps').value), fastStrength, colors };
    try {
      const blob = await page.stylizer().stylizeVideo(file, options, {
        styles: page.styles(),
        signal: controller.signal,
        onProgress({ frame, frames, remainingMs, preview }) {
          Object.assign(bar, { max: frames || 1, value: frame });
          const left = Number.isFinite(remainingMs) ? ` · about ${Math.ceil(remainingMs / 1000)} s left` : '';
          $('video-frames').textContent = `Frame ${frame} of ${frames || '?'}${left}`;
          if (preview) drawImage($('video-preview'), preview);
        },
      });
      const link = $('video-download');
      if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(blob);
      link.download = `${(file.name || 'video').replace(/\.[^.]*$/, '')}-stylized.webm`;
      link.hidden = false;
      $('video-status').textContent = `Done: ${(blob.size / 1e6).toFixed(1)} MB, ready to download.`;
    } catch (error) {
      $('video-status').textContent = error instanceof AbortError ? 'Cancelled: nothing was saved.' : '';
      if (!(error instanceof AbortError)) page.showMessage(error.message);
    } finally {
      running = null;
      bar.hidden = true;
      $('video-frames').textContent = '';
      const focused = document.activeElement === $('video-cancel');
      $('video-cancel').disabled = true;
      input.value = '';
      page.busy(false);
      if (focused) input.focus();
    }
  };
  input.addEventListener('change', () => run(input.files[0]));
  // How long refined frames take, before a video is chosen: the steps' plan on a 16:9 frame at
  // the rate of the last run timed here.
  const estimate = async () => {
    const steps = Number($('video-steps').value);
    const size = Number($('video-size').value);
    const box = $('video-estimate');
    if (!steps || !page.stylizer()) return (box.textContent = '');
    try {
      const options = { ...page.options(), size, iterations: steps, previewEvery: 0 };
      const { ms, measured } = await page.stepTime(size, Math.round((size * 9) / 16), options);
      box.textContent = `With ${steps} step${steps === 1 ? '' : 's'}: about ${page.seconds(ms)} a frame on this device` +
        `${measured ? '' : ' (a first guess until a run has been timed here)'}; a 10 s clip at 24 frames a second, about ${page.seconds(ms * 240)}.`;
    } catch (error) {
      box.textContent = error.name === 'OptionsError' ? error.message : '';
    }
  };
  for (const id of ['video-steps', 'video-size']) $(id).addEventListener('input', estimate);
  $('video-cancel').addEventListener('click', () => running?.abort());
  const zone = $('video-drop');
  zone.addEventListener('dragover', (e) => e.preventDefault());
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    run(e.dataTransfer.files[0]);
  });
}
