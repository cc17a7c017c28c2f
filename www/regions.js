// "Paint regions": a brush per chosen painting, a "keep photo" brush and an eraser on the
// photo, drawn as a translucent colour overlay. The masks (www/brush.js) stay at the photo's
// resolution (up to MASK_SIDE); the engine gets them when Start is pressed (masks()).

import { corners, Masks, union } from './brush.js';

/** Overlay colours of the paintings' brushes, in the order they were chosen; keep is yellow. */
const COLOURS = [[230, 25, 75], [60, 180, 75], [67, 99, 216], [245, 130, 49], [145, 30, 180], [66, 212, 244]];
const KEEP = [255, 225, 25];
/** The overlay's opacity where a label is fully painted. */
const OPACITY = 0.55;
/**
 * Longest side of the masks, in pixels: the photo's own resolution up to this (a 12-megapixel
 * photo's masks would make a preset or a fill take seconds of the page's thread); the engine
 * resizes them to each scale of the run anyway.
 */
const MASK_SIDE = 2048;
/**
 * How far a stroke may stray from the pointer's path, as a share of the brush's radius: the
 * points of a pointer event closer than this to a straight line are painted as that line.
 */
const TOLERANCE = 0.1;

const $ = (id) => document.getElementById(id);

/**
 * The editor in `#regions`. `onChange()` runs when the masks change (painted, cleared, undone).
 * Returns `{setPhoto, setPaintings, masks}` (see each).
 */
export function createRegions({ onChange = () => {} } = {}) {
  const overlay = $('regions-overlay');
  const context = overlay.getContext('2d');
  let photo = null;
  let masks = null;
  /** The chosen paintings (app.js's entries), each a label in the order of masks' planes. */
  let paintings = [];
  /** What the brush paints: a painting (its entry; the first when none is), `keep` or `erase`. */
  let brush = null;
  /** The last preset chosen from a menu (the menu and its undo step), for replacing it. */
  let presetStep = null;
  const pointers = new Map();
  let pinched = false;

  const keepLabel = () => paintings.length;
  const labelOf = () => (brush === 'keep' ? keepLabel() : brush === 'erase' ? -1 : Math.max(0, paintings.indexOf(brush)));
  const colourOf = (label) => (label === keepLabel() ? KEEP : COLOURS[label % COLOURS.length]);

  /** Redraws the overlay over `rect` (photo pixels, by default all) from the masks. */
  function draw(rect = { x: 0, y: 0, width: masks.width, height: masks.height }) {
    if (!rect) return;
    const image = context.createImageData(rect.width, rect.height);
    const out = image.data;
    const colours = masks.planes.map((_, l) => colourOf(l));
    for (let y = 0; y < rect.height; y++) {
      for (let x = 0; x < rect.width; x++) {
        const i = (rect.y + y) * masks.width + rect.x + x;
        let r = 0;
        let g = 0;
        let b = 0;
        let a = 0;
        for (let l = 0; l < colours.length; l++) {
          const v = masks.planes[l][i];
          if (v === 0) continue;
          r += colours[l][0] * v;
          g += colours[l][1] * v;
          b += colours[l][2] * v;
          a += v;
        }
        if (a === 0) continue;
        const o = 4 * (y * rect.width + x);
        out[o] = r / a;
        out[o + 1] = g / a;
        out[o + 2] = b / a;
        out[o + 3] = Math.min(255, a) * OPACITY;
      }
    }
    context.putImageData(image, rect.x, rect.y);
  }

  /**
   * After the masks changed over `rect` (null: nothing changed, but a new photo may have come):
   * redrawn, Undo and Redo enabled as they apply, and each preset menu showing its preset
   * while its painting is exactly there, "As painted" otherwise.
   */
  function changed(rect) {
    $('regions-presets').querySelectorAll('select').forEach((select, label) => {
      const name = select.dataset.preset;
      // A menu that showed its preset did match it: only the pixels changed need a look.
      select.value = name && masks?.matches(label, name, (select.value && rect) || undefined) ? name : '';
    });
    $('regions-undo').disabled = !masks?.undoSteps.length;
    $('regions-redo').disabled = !masks?.redoSteps.length;
    // A button disabled under the keyboard's focus leaves it to the editor (for Ctrl+Z).
    if (document.activeElement?.disabled) $('regions').focus({ preventScroll: true });
    if (!rect) return;
    draw(rect);
    onChange();
  }

  /** Photo pixels under a pointer event. */
  function at(event) {
    const box = overlay.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * masks.width, ((event.clientY - box.top) / box.height) * masks.height];
  }

  /** The brush's radius and softness in photo pixels (its size is in on-screen pixels). */
  function brushShape() {
    const scale = masks.width / overlay.getBoundingClientRect().width;
    return [(Number($('brush-size').value) / 2) * scale, Number($('brush-softness').value)];
  }

  /** Paints from where `pointer` was last to each of `points` (photo pixels), then draws. */
  function strokeTo(pointer, points) {
    const [radius, softness] = brushShape();
    const path = corners([pointer.last ?? points[0], ...points], Math.max(0.5, radius * TOLERANCE));
    let rect = null;
    for (let k = 0; k + 1 < path.length; k++) {
      rect = union(rect, masks.line(labelOf(), ...path[k], ...path[k + 1], radius, softness));
    }
    pointer.last = points[points.length - 1];
    draw(rect);
  }

  overlay.addEventListener('pointerdown', (event) => {
    if (!masks || (event.pointerType === 'mouse' && event.button !== 0)) return;
    event.preventDefault();
    // The editor takes the focus (the pointer's default, prevented here), for Ctrl+Z.
    $('regions').focus({ preventScroll: true });
    pointers.set(event.pointerId, { last: null });
    overlay.setPointerCapture(event.pointerId);
    if (pointers.size > 1) {
      // A second finger: a pinch or a scroll, not paint. What the first one painted goes.
      pinched = true;
      changed(masks.endStroke(false));
      return;
    }
    masks.beginStroke();
    strokeTo(pointers.get(event.pointerId), [at(event)]);
  });
  overlay.addEventListener('pointermove', (event) => {
    const pointer = pointers.get(event.pointerId);
    if (!pointer || pinched || !masks.stroke) return;
    // Every position since the last event (a fast pointer's events are far apart).
    const coalesced = event.getCoalescedEvents?.() ?? [];
    strokeTo(pointer, (coalesced.length ? coalesced : [event]).map(at));
  });
  const lift = (event) => {
    if (!pointers.delete(event.pointerId)) return;
    if (!pinched && masks.stroke) changed(masks.endStroke(true));
    if (pointers.size === 0) pinched = false;
  };
  overlay.addEventListener('pointerup', lift);
  overlay.addEventListener('pointercancel', (event) => {
    if (masks?.stroke) changed(masks.endStroke(false));
    lift(event);
  });

  $('regions-undo').addEventListener('click', () => changed(masks?.undo()));
  $('regions-redo').addEventListener('click', () => changed(masks?.redo()));
  $('regions-clear').addEventListener('click', () => changed(masks?.clear()));
  $('regions-fill').addEventListener('click', () => {
    if (masks && labelOf() >= 0) changed(masks.fillRest(labelOf()));
  });
  $('regions').addEventListener('keydown', (event) => {
    const key = event.key.toLowerCase();
    if (!(event.ctrlKey || event.metaKey) || (key !== 'z' && key !== 'y')) return;
    event.preventDefault();
    changed(event.shiftKey || key === 'y' ? masks?.redo() : masks?.undo());
  });
  $('regions-toggle').addEventListener('click', () => {
    const open = $('regions').hidden;
    $('regions').hidden = !open;
    $('regions-toggle').setAttribute('aria-expanded', String(open));
  });

  /** The brushes (a radio per painting, keep, eraser) and a preset menu per painting. */
  function showBrushes() {
    const list = $('regions-brushes');
    const presets = $('regions-presets');
    list.replaceChildren();
    presets.replaceChildren();
    const chosen = labelOf();
    // Each radio's value is its label's index among the paintings, `keep` or `erase`.
    const radio = (value, label, swatch, paints = value) => {
      const checked = value === String(chosen) || value === brush;
      const input = Object.assign(document.createElement('input'), { type: 'radio', name: 'brush', value, checked });
      input.addEventListener('change', () => (brush = paints));
      const item = document.createElement('label');
      item.className = 'brush';
      item.append(input, swatch, document.createTextNode(label));
      list.append(item);
    };
    const colourSwatch = (rgb) => {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = `rgb(${rgb.join(' ')})`;
      return swatch;
    };
    paintings.forEach((entry, i) => {
      const thumb = document.createElement('canvas');
      thumb.className = 'swatch';
      [thumb.width, thumb.height] = [48, Math.max(1, Math.round((48 * entry.image.height) / entry.image.width))];
      thumb.getContext('2d').drawImage(entry.image, 0, 0, thumb.width, thumb.height);
      thumb.style.borderColor = `rgb(${colourOf(i).join(' ')})`;
      radio(String(i), entry.name ?? `Painting ${i + 1}`, thumb, entry);
      const select = document.createElement('select');
      select.setAttribute('aria-label', `Where ${entry.name ?? `painting ${i + 1}`} goes`);
      for (const [value, text] of [['', 'As painted'], ['whole', 'Whole picture'], ['left', 'Left half'], ['right', 'Right half'], ['top', 'Top half'], ['bottom', 'Bottom half']]) {
        select.append(Object.assign(document.createElement('option'), { value, textContent: text }));
      }
      select.addEventListener('change', () => {
        if (!masks) return;
        // Arrowing through the menu tries each preset in turn, each replacing the one before.
        const again = presetStep?.select === select && masks.undoSteps.at(-1) === presetStep.step;
        let rect = again ? masks.undo() : null;
        if (select.value) rect = union(rect, masks.preset(i, select.value));
        select.dataset.preset = select.value;
        presetStep = select.value ? { select, step: masks.undoSteps.at(-1) } : null;
        changed(rect);
      });
      const item = document.createElement('label');
      item.append(`${entry.name ?? `Painting ${i + 1}`}: `, select);
      presets.append(item);
    });
    radio('keep', 'Keep the photo', colourSwatch(KEEP));
    radio('erase', 'Eraser', colourSwatch([128, 128, 128]));
  }

  return {
    /** The chosen photo (an ImageBitmap or canvas); the masks are cleared when it changes. */
    setPhoto(bitmap) {
      photo = bitmap;
      const scale = Math.min(1, MASK_SIDE / Math.max(bitmap.width, bitmap.height));
      const [width, height] = [bitmap.width, bitmap.height].map((side) => Math.max(1, Math.round(side * scale)));
      [overlay.width, overlay.height] = [width, height];
      const under = $('regions-photo');
      [under.width, under.height] = [width, height];
      under.getContext('2d').drawImage(bitmap, 0, 0, width, height);
      masks = new Masks(width, height, paintings.length + 1);
      context.clearRect(0, 0, overlay.width, overlay.height);
      changed(null);
      onChange();
      $('regions-toggle').disabled = paintings.length === 0;
    },

    /** The chosen paintings (app.js's entries, `{image, blend, name}`), whenever they change. */
    setPaintings(list) {
      // A stroke in progress ends here: its undo step is of the labels it painted.
      if (masks?.stroke) changed(masks.endStroke(true));
      if (masks) {
        // Drop the labels of paintings removed, add those of paintings added.
        for (let i = paintings.length - 1; i >= 0; i--) if (!list.includes(paintings[i])) masks.removeLabel(i);
        const kept = paintings.filter((p) => list.includes(p));
        list.forEach((p) => {
          if (!kept.includes(p)) masks.addLabel(masks.planes.length - 1);
        });
        paintings = [...kept, ...list.filter((p) => !kept.includes(p))];
      } else {
        paintings = [...list];
      }
      showBrushes();
      if (masks) changed({ x: 0, y: 0, width: masks.width, height: masks.height });
      $('regions-toggle').disabled = !photo || paintings.length === 0;
      if (paintings.length === 0) {
        $('regions').hidden = true;
        $('regions-toggle').setAttribute('aria-expanded', 'false');
      }
    },

    /**
     * The masks for a run, or null when nothing is painted: `{styles: Map(entry → mask), keep}`,
     * each mask `{width, height, data}` with one byte a pixel at the photo's resolution (at
     * most MASK_SIDE on its longer side); `styles` is empty when only the photo is kept.
     */
    masks() {
      if (!masks?.painted()) return null;
      const mask = (plane) => ({ width: masks.width, height: masks.height, data: plane.slice() });
      // Only the photo kept: every painting everywhere else (no painting masks).
      const painted = paintings.some((_, i) => masks.planes[i].some((v) => v > 0));
      const styles = new Map(painted ? paintings.map((entry, i) => [entry, mask(masks.planes[i])]) : []);
      const keep = masks.planes[keepLabel()];
      return { styles, keep: keep.some((v) => v > 0) ? mask(keep) : null };
    },
  };
}
