// The upload page: pick a photo and paintings, watch the picture form, download it.

import { closeCamera, openCamera, snapshot } from './camera.js';
import { notOffline, reportOffline, setUpOffline } from './offline.js';
import { credit, paintingUrl, PAINTINGS } from './gallery.js';
import { clearResult, drawInto, offerResult, plotLosses, showFrame, showResult, showTiles } from './output.js';
import { fetchImage } from './images.js';
import { wireMoving } from './moving.js';
import { createRegions } from './regions.js';
import { PREVIEW_EVERY, readOptions, showSettings, wireSettings } from './settings.js';
import { createStylizer, decode, AbortError } from './stylizer.js';

const $ = (id) => document.getElementById(id);

/**
 * Milliseconds per pixel of a whole-image step before this device has been measured (the
 * CPU fallback on a two-core laptop; a GPU is usually faster): replaced by the rate of the
 * last run here.
 */
const FIRST_GUESS_MS_PER_PIXEL = 0.06;

const params = new URLSearchParams(location.search);
const regions = createRegions();
const state = {
  stylizer: null,
  content: null,
  styles: [],
  running: null,
  /** How many moving pictures (Live, a video) are going on: 0 or 1, the buttons see to it. */
  moving: 0,
  losses: [],
  /** Measured milliseconds per pixel of work, by backend. */
  rates: {},
};

function showMessage(text) {
  const box = $('message');
  box.textContent = text;
  box.hidden = !text;
}

function updateButtons() {
  const ready = state.stylizer && state.content && state.styles.length > 0;
  $('start').disabled = !ready || !!state.running || state.moving > 0;
  $('palette').disabled = !ready || !!state.running || state.moving > 0;
  $('cancel').disabled = !state.running;
  // Live and Video need the engine and a painting, not a photo; one moving picture at a time.
  const moving = !state.stylizer || !state.styles.length || !!state.running || state.moving > 0;
  $('live').disabled = moving;
  $('video-input').disabled = moving;
}

/** The paintings in the blend as the engine takes them, with their masks when regions are painted. */
function chosenStyles(masks = null) {
  return state.styles
    .filter((s) => s.blend > 0)
    .map((s) => ({ image: s.image, blend: s.blend, ...(masks && { mask: masks.styles.get(s) }) }));
}

async function readFile(file, what) {
  try {
    return await decode(file, what);
  } catch (error) {
    showMessage(error.message);
    return null;
  }
}

async function setContent(file) {
  const bitmap = await readFile(file, 'photo');
  if (bitmap) usePhoto(bitmap);
}

function usePhoto(bitmap) {
  showMessage('');
  state.content = bitmap;
  regions.setPhoto(bitmap);
  drawInto($('content-preview'), bitmap);
  updateButtons();
  showEstimate();
}

/** "Take a photo": the camera's live view in a dialog, Capture takes the frame. */
async function takePhoto() {
  const dialog = $('camera');
  let stream = null;
  try {
    stream = await openCamera();
  } catch (error) {
    showMessage(error.message);
    return;
  }
  const video = $('camera-view');
  video.srcObject = stream;
  const finish = () => {
    closeCamera(stream);
    video.srcObject = null;
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener('close', finish, { once: true });
  $('camera-capture').onclick = async () => {
    const bitmap = await snapshot(video);
    finish();
    usePhoto(bitmap);
  };
  $('camera-cancel').onclick = finish;
  dialog.showModal();
  video.play().catch(() => {});
}

/**
 * Adds a painting to the blend, with a weight slider and a Remove button; `onRemove` runs
 * when it leaves. Returns a function that removes it.
 */
function addStyle(bitmap, name, onRemove = () => {}) {
  showMessage('');
  const entry = { image: bitmap, blend: 1, name };
  state.styles.push(entry);
  regions.setPaintings(state.styles);
  const item = document.createElement('li');
  const thumb = document.createElement('canvas');
  thumb.setAttribute('role', 'img');
  thumb.setAttribute('aria-label', name);
  drawInto(thumb, bitmap);
  const weight = document.createElement('input');
  Object.assign(weight, { type: 'range', min: '0', max: '1', step: '0.05', value: '1' });
  weight.setAttribute('aria-label', `Weight of ${name}`);
  weight.addEventListener('input', () => (entry.blend = Number(weight.value)));
  const removeButton = document.createElement('button');
  removeButton.type = 'button';
  removeButton.textContent = 'Remove';
  removeButton.setAttribute('aria-label', `Remove ${name}`);
  const remove = () => {
    state.styles.splice(state.styles.indexOf(entry), 1);
    regions.setPaintings(state.styles);
    item.remove();
    onRemove();
    updateButtons();
  };
  removeButton.addEventListener('click', remove);
  item.append(thumb, weight, removeButton);
  $('style-list').append(item);
  updateButtons();
  return remove;
}

async function addStyles(files) {
  for (const file of files) {
    const bitmap = await readFile(file, 'painting');
    if (bitmap) addStyle(bitmap, file.name || 'painting');
  }
}

/** The preset paintings as toggle buttons: pressed ones are in the blend. */
function showGallery() {
  for (const painting of PAINTINGS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'painting';
    button.dataset.painting = painting.id;
    button.setAttribute('aria-pressed', 'false');
    const image = Object.assign(document.createElement('img'), { src: paintingUrl(painting), alt: '' });
    const title = Object.assign(document.createElement('span'), { className: 'title', textContent: painting.title });
    const by = Object.assign(document.createElement('span'), { className: 'credit', textContent: credit(painting) });
    button.append(image, title, by);
    let remove = null;
    button.addEventListener('click', async () => {
      if (remove) return remove();
      if (button.getAttribute('aria-busy') === 'true') return;
      button.setAttribute('aria-busy', 'true');
      try {
        const bitmap = await fetchImage(paintingUrl(painting), 'painting', painting.title);
        button.setAttribute('aria-pressed', 'true');
        remove = addStyle(bitmap, painting.title, () => {
          remove = null;
          button.setAttribute('aria-pressed', 'false');
        });
      } catch (error) {
        showMessage(error.message);
      } finally {
        button.removeAttribute('aria-busy');
      }
    });
    const item = document.createElement('li');
    item.append(button);
    $('gallery').append(item);
  }
}

function images(items) {
  return [...items].filter((f) => f.kind === undefined || f.kind === 'file').map((f) => f.getAsFile?.() ?? f);
}

function wireDropZone(zone, onFiles) {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    onFiles(images(e.dataTransfer.files));
  });
  zone.addEventListener('keydown', (e) => {
    // Only the zone itself: Enter on a control inside it (a gallery painting) is that control's.
    if (e.target === zone && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      zone.querySelector('input[type=file]').click();
    }
  });
}

/** The run's scales and tiles for the current photo and settings, from the engine. */
async function currentPlan() {
  const { width, height } = state.content;
  return state.stylizer.plan({ width, height, options: readOptions(state.stylizer) });
}

/** "About 3 min on this device": the plan's work at the rate measured here (or a first guess). */
async function showEstimate() {
  const box = $('estimate');
  if (!state.stylizer || !state.content || state.running) return;
  try {
    const plan = await currentPlan();
    if (plan.every((s) => s.iterations === 0)) {
      box.textContent = 'One pass of the fast network: a few seconds.';
      return;
    }
    const { ms, measured } = planTime(plan);
    const last = plan[plan.length - 1];
    const pairs = last.lbfgsPairs < plan[0].lbfgsPairs ? ` and keep ${last.lbfgsPairs} L-BFGS pairs` : '';
    const tiles = last.tiles > 1 ? ` The ${last.width}×${last.height} px steps run in ${last.tiles} tiles${pairs} to fit in memory.` : '';
    box.textContent = `About ${seconds(ms)} on this device${measured ? '' : ' (a first guess until a run has been timed here)'}.${tiles}`;
  } catch (error) {
    box.textContent = error.name === 'OptionsError' ? error.message : '';
  }
}

/** A run's time here: its plan's work at the rate measured in the last run (`measured`), or a first guess. */
function planTime(plan) {
  const rate = state.rates[state.stylizer.backend];
  return { ms: plan.reduce((sum, s) => sum + s.iterations * s.work, 0) * (rate ?? FIRST_GUESS_MS_PER_PIXEL), measured: !!rate };
}

function seconds(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

async function start() {
  showMessage('');
  const controller = new AbortController();
  state.running = controller;
  state.losses = [];
  clearResult();
  $('output').dataset.frames = '0';
  updateButtons();
  const began = performance.now();
  $('progress-text').textContent = 'Preparing…';
  // The time per pixel of work, measured over the run's steps (from the first picture or the
  // first step on), for the next estimate.
  const plan = await currentPlan().catch(() => []);
  const workOf = (p) => plan.find((s) => s.width === p.width && s.height === p.height)?.work ?? p.width * p.height;
  const timing = { last: null, ms: 0, work: 0 };
  const tiles = []; // the finished tiles of the step in progress
  try {
    // With regions painted, each painting goes where its mask says (the rest is kept).
    const masks = regions.masks();
    const result = await state.stylizer.stylize({
      content: state.content,
      styles: chosenStyles(masks),
      keepMask: masks?.keep ?? undefined,
      options: readOptions(state.stylizer),
      signal: controller.signal,
      onProgress(p) {
        const now = performance.now();
        if (p.tile) {
          $('progress-text').textContent =
            `Step ${p.iteration} of ${p.total} · ${p.width}×${p.height} px · tile ${p.tile.done} of ${p.tile.count}`;
          if (p.tile.done === 1) tiles.length = 0;
          tiles.push(p.tile);
          showTiles(p, tiles);
          return;
        }
        showTiles(null);
        if (p.iteration >= 1 && timing.last !== null) {
          timing.ms += now - timing.last;
          timing.work += workOf(p);
        }
        timing.last = now;
        if (p.iteration === 0) {
          // The start: the feed-forward network's picture (mixed with the photo, or alone in
          // Quick mode), before any step of the optimisation.
          $('progress-text').textContent = p.total
            ? `First picture in ${seconds(now - began)}; refining it in ${p.total} steps…`
            : 'Quick picture ready.';
        } else {
          state.losses.push(p.losses.total);
          const perStep = (now - began) / p.iteration;
          $('progress-text').textContent =
            `Step ${p.iteration} of ${p.total} · ${p.width}×${p.height} px (scale ${p.scale + 1} of ${p.scales})` +
            ` · about ${seconds(perStep * (p.total - p.iteration))} left`;
        }
        if (p.image) showFrame(p.image);
        plotLosses(state.losses);
      },
    });
    if (timing.work > 0) state.rates[result.backend] = timing.ms / timing.work;
    showResult(result.image, state.content, showMessage);
    const where = result.backend === 'webgpu' ? 'the GPU (WebGPU)' : 'the CPU';
    const kept = result.startKept ? ' None improved on the first picture, so it is kept.' : '';
    $('progress-text').textContent = result.iterations
      ? `Done: ${result.iterations} step${result.iterations === 1 ? '' : 's'} on ${where}, ${Math.round(result.msPerIteration)} ms per step.${kept}`
      : `Done: the quick picture, ${result.image.width}×${result.image.height} px, in ${seconds(performance.now() - began)} on ${where}.`;
  } catch (error) {
    if (error instanceof AbortError) {
      // Every picture shown is the best so far: it stays, and can be downloaded.
      const shown = Number($('output').dataset.frames) > 0;
      $('progress-text').textContent = shown ? 'Cancelled: the picture shown is the best so far.' : 'Cancelled.';
      if (shown) offerResult(showMessage);
    } else {
      $('progress-text').textContent = '';
      showMessage(`The stylization failed: ${error.message}`);
    }
  } finally {
    state.running = null;
    showTiles(null);
    updateButtons();
    showEstimate();
  }
}

/** "Palette only": the photo in the paintings' colours, at once (no network, no steps). */
async function paletteOnly() {
  showMessage('');
  const controller = new AbortController();
  state.running = controller;
  updateButtons();
  clearResult();
  try {
    const { image } = await state.stylizer.palette({
      content: state.content,
      styles: chosenStyles(),
      size: Number($('size').value),
      signal: controller.signal,
    });
    showResult(image, state.content, showMessage);
    $('progress-text').textContent = `Done: the photo in the painting's colours, ${image.width}×${image.height} px (no brush strokes; Start paints them).`;
  } catch (error) {
    if (!(error instanceof AbortError)) showMessage(`The palette failed: ${error.message}`);
  } finally {
    state.running = null;
    updateButtons();
  }
}

/** A download's progress bar and status line: "Downloading the model: 1.2 of 10.0 MB…". */
function showDownload(bar, text, { loaded, total }) {
  bar.hidden = false;
  bar.max = total || 1;
  bar.value = loaded;
  $('engine-status').textContent = `${text}: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB…`;
}

function showEngineStatus(status) {
  if (status.stage === 'weights') {
    showDownload($('weights-progress'), 'Downloading the model', status);
    if (status.cached) $('engine-status').textContent = 'Model loaded from this device.';
  } else if (status.stage === 'starting') {
    $('engine-status').textContent = 'Starting the engine…';
  } else if (status.stage === 'engine') {
    showDownload($('engine-progress'), 'Loading the engine', status);
  } else if (status.stage === 'warming') {
    $('engine-progress').hidden = true;
    $('engine-status').textContent = 'Preparing the GPU (compiling its programs)…';
  } else if (status.stage === 'ready') {
    $('weights-progress').hidden = true;
    $('engine-progress').hidden = true;
    $('engine-status').textContent =
      status.backend === 'webgpu'
        ? 'Ready: running on your GPU (WebGPU).'
        : `Ready: running on the CPU on ${status.threads === 1 ? 'one thread' : `${status.threads} threads`} (${status.fallback ?? 'WebGPU is not available here'}), which is slower.`;
    if (state.stylizer) document.body.dataset.ready = status.backend;
  }
}

async function boot() {
  showGallery();
  $('content-input').addEventListener('change', (e) => e.target.files[0] && setContent(e.target.files[0]));
  $('style-input').addEventListener('change', (e) => addStyles(e.target.files));
  wireDropZone($('content-drop'), (files) => files[0] && setContent(files[0]));
  wireDropZone($('style-drop'), addStyles);
  document.addEventListener('paste', (e) => {
    const files = images(e.clipboardData?.items ?? []).filter(Boolean);
    if (!files.length) return;
    // A paste goes to the photo first, then to the paintings.
    if (!state.content || document.activeElement === $('content-drop')) setContent(files[0]);
    else addStyles(files);
  });
  $('take-photo').addEventListener('click', takePhoto);
  wireMoving({
    stylizer: () => state.stylizer,
    styles: () => chosenStyles(),
    options: () => readOptions(state.stylizer),
    capture(bitmap) {
      usePhoto(bitmap);
      if (!state.running) start();
    },
    showMessage,
    /** The time of `options`' steps on a `width × height` frame here: {ms, measured}. */
    stepTime: async (width, height, options) => planTime(await state.stylizer.plan({ width, height, options })),
    seconds,
    busy(moving) {
      state.moving += moving ? 1 : -1;
      updateButtons();
    },
  });
  wireSettings(() => state.stylizer, showEstimate);
  $('start').addEventListener('click', start);
  $('palette').addEventListener('click', paletteOnly);
  $('cancel').addEventListener('click', () => state.running?.abort());
  $('compare-position').addEventListener('input', (e) => {
    const value = Number(e.target.value);
    $('before').style.clipPath = `inset(0 0 0 ${value}%)`;
    e.target.setAttribute('aria-valuetext', `stylized on the left ${value}%, the photo on the right ${100 - value}%`);
  });

  const offline = setUpOffline().catch((error) => {
    notOffline(error.message);
    return false;
  });
  try {
    state.stylizer = await createStylizer({
      backend: params.get('backend') ?? 'auto',
      onStatus: showEngineStatus,
      startAfter: offline,
      // The warm-up compiles the pipelines of a run with the engine's defaults, which the
      // page starts from (`?warmUp=0`: none, for measuring what it saves). `?kernel=direct`
      // runs burn's convolution, for comparison.
      warmUp: params.get('warmUp') === '0' ? false : { previewEvery: PREVIEW_EVERY },
      kernel: params.get('kernel') ?? undefined,
    });
    showSettings(state.stylizer);
    document.body.dataset.ready = state.stylizer.backend;
    showEstimate();
    // Whatever happens there, the engine runs: offline use is only not reported.
    if (await offline) await reportOffline(state.stylizer.backend).catch(() => {});
  } catch (error) {
    $('engine-status').textContent = 'The engine could not start.';
    showMessage(error.message);
  }
  updateButtons();
}

boot();
