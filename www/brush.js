// The masks a person paints on the photo: one byte a pixel per label (each chosen painting,
// and "keep the photo"), at the photo's resolution, with exclusive soft dabs, presets and an
// undo history. No DOM here: www/regions.js draws and handles the pointer.

/** A rectangle in photo pixels, `{x, y, width, height}`, clipped to the photo. */
function clip({ x, y, width, height }, w, h) {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(w, Math.ceil(x + width));
  const y1 = Math.min(h, Math.ceil(y + height));
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}

/** The union of two rectangles (either may be null). */
export function union(a, b) {
  if (!a || !b) return a ?? b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/** The distance from point `p` to the line from `a` to `b` (points as [x, y]). */
function distance([px, py], [ax, ay], [bx, by]) {
  const [dx, dy] = [bx - ax, by - ay];
  const length2 = dx * dx + dy * dy;
  const t = length2 > 0 ? Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / length2)) : 0;
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/**
 * The corners of a pointer's path `points` ([x, y] each, the first where the last event left
 * off) that a brush must follow: points closer than `tolerance` to the straight line past
 * them are dropped, so a big brush paints one long line rather than many overlapping ones.
 */
export function corners(points, tolerance) {
  const kept = [points[0]];
  let from = 0;
  for (let to = 2; to < points.length; to++) {
    // The farthest of the points between from the line from `from` to `to`.
    let off = 0;
    for (let k = from + 1; k < to; k++) off = Math.max(off, distance(points[k], points[from], points[to]));
    if (off > tolerance) kept.push(points[(from = to - 1)]);
  }
  if (points.length > 1) kept.push(points[points.length - 1]);
  return kept;
}

/** The presets a painting can be given from the keyboard: which pixels, in 0–1 coordinates. */
export const PRESETS = {
  whole: () => true,
  left: (x) => x < 0.5,
  right: (x) => x >= 0.5,
  top: (_, y) => y < 0.5,
  bottom: (_, y) => y >= 0.5,
};

/** The masks of `labels` labels over a `width × height` photo. */
export class Masks {
  /** Undo and redo steps kept at most. */
  static HISTORY = 50;

  constructor(width, height, labels) {
    this.width = width;
    this.height = height;
    this.planes = Array.from({ length: labels }, () => new Uint8Array(width * height));
    this.undoSteps = [];
    this.redoSteps = [];
    this.stroke = null;
  }

  /** Adds a label (a painting chosen) with nothing painted, before `at` (default: the end). */
  addLabel(at = this.planes.length) {
    this.planes.splice(at, 0, new Uint8Array(this.width * this.height));
    this.#forgetHistory();
  }

  /** Removes label `index` and what it painted. */
  removeLabel(index) {
    this.planes.splice(index, 1);
    this.#forgetHistory();
  }

  /** Whether any label has a painted pixel. */
  painted() {
    return this.planes.some((plane) => plane.some((v) => v > 0));
  }

  /** Starts a stroke of dabs: what it changes becomes one undo step. */
  beginStroke() {
    this.stroke = { before: this.planes.map((p) => p.slice()), rect: null };
  }

  /** Ends the stroke; `keep` false puts the pixels back as they were (a pinch began). */
  endStroke(keep = true) {
    const stroke = this.stroke;
    this.stroke = null;
    if (!stroke?.rect) return null;
    if (!keep) {
      this.planes.forEach((p, i) => this.#copyRect(stroke.before[i], p, stroke.rect));
      return stroke.rect;
    }
    this.#record(stroke.rect, stroke.before);
    return stroke.rect;
  }

  /**
   * Paints `label` (the eraser: -1) along the line from (`x0`, `y0`) to (`x1`, `y1`) with a
   * round brush of `radius` photo pixels, as if dabbed at every point of it (a single point
   * when both ends are the same): no gaps however far apart the pointer's events are.
   * `softness` 0–1 is the share of the radius over which the brush fades out. A label is
   * raised to the brush's strength and every other label lowered so that a pixel's labels
   * never sum over 255; the eraser lowers all. Only within a stroke (beginStroke), which
   * makes the undo step. Returns the rectangle changed.
   */
  line(label, x0, y0, x1, y1, radius, softness) {
    const [x, y] = [Math.min(x0, x1) - radius, Math.min(y0, y1) - radius];
    const [width, height] = [Math.abs(x1 - x0) + 2 * radius + 1, Math.abs(y1 - y0) + 2 * radius + 1];
    const rect = clip({ x, y, width, height }, this.width, this.height);
    if (!rect) return null;
    const inner = radius * (1 - softness);
    const fade = Math.max(radius - inner, 1e-6);
    const dx = x1 - x0;
    const dy = y1 - y0;
    const length2 = dx * dx + dy * dy;
    const radius2 = radius * radius;
    for (let py = rect.y; py < rect.y + rect.height; py++) {
      const row = py * this.width;
      for (let px = rect.x; px < rect.x + rect.width; px++) {
        // The distance from the pixel's centre to the nearest point of the line.
        let ex = px + 0.5 - x0;
        let ey = py + 0.5 - y0;
        if (length2 > 0) {
          const t = Math.min(1, Math.max(0, (ex * dx + ey * dy) / length2));
          ex -= t * dx;
          ey -= t * dy;
        }
        const d2 = ex * ex + ey * ey;
        if (d2 >= radius2) continue;
        const d = Math.sqrt(d2);
        this.#apply(label, row + px, d <= inner ? 255 : Math.round(255 * (1 - (d - inner) / fade)));
      }
    }
    return this.#changed(rect);
  }

  /** Puts `label` where a preset (PRESETS) says, in full, and nowhere else. */
  preset(label, name) {
    const inside = PRESETS[name];
    const before = this.planes.map((p) => p.slice());
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const i = y * this.width + x;
        if (inside((x + 0.5) / this.width, (y + 0.5) / this.height)) this.#apply(label, i, 255);
        else this.planes[label][i] = 0;
      }
    }
    return this.#whole(before);
  }

  /** Whether `label` is exactly where preset `name` puts it (and nowhere else) within `rect`. */
  matches(label, name, rect = { x: 0, y: 0, width: this.width, height: this.height }) {
    const inside = PRESETS[name];
    const plane = this.planes[label];
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        if (plane[y * this.width + x] !== (inside((x + 0.5) / this.width, (y + 0.5) / this.height) ? 255 : 0)) return false;
      }
    }
    return true;
  }

  /** Gives `label` every pixel that no label covers yet (255 − the sum of all). */
  fillRest(label) {
    const before = this.planes.map((p) => p.slice());
    const free = new Int32Array(this.width * this.height).fill(255);
    for (const plane of this.planes) for (let i = 0; i < free.length; i++) free[i] -= plane[i];
    const mine = this.planes[label];
    for (let i = 0; i < free.length; i++) if (free[i] > 0) mine[i] += free[i];
    return this.#whole(before);
  }

  /** Clears every label. */
  clear() {
    const before = this.planes.map((p) => p.slice());
    this.planes.forEach((p) => p.fill(0));
    return this.#whole(before);
  }

  /** Undoes the last step; returns the rectangle changed, or null when there is none. */
  undo() {
    return this.#swap(this.undoSteps, this.redoSteps);
  }

  /** Redoes the last step undone; returns the rectangle changed, or null. */
  redo() {
    return this.#swap(this.redoSteps, this.undoSteps);
  }

  /** Raises `label` at pixel `i` to `value` and lowers the others to fit (or erases). */
  #apply(label, i, value) {
    const planes = this.planes;
    if (label < 0) {
      for (let l = 0; l < planes.length; l++) if (planes[l][i] > 255 - value) planes[l][i] = 255 - value;
      return;
    }
    const mine = planes[label];
    if (mine[i] < value) mine[i] = value;
    let others = 0;
    for (let l = 0; l < planes.length; l++) if (l !== label) others += planes[l][i];
    if (others + mine[i] <= 255) return;
    const scale = (255 - mine[i]) / others;
    for (let l = 0; l < planes.length; l++) if (l !== label) planes[l][i] = Math.floor(planes[l][i] * scale);
  }

  #changed(rect) {
    this.stroke.rect = union(this.stroke.rect, rect);
    return rect;
  }

  #whole(before) {
    const rect = { x: 0, y: 0, width: this.width, height: this.height };
    this.#record(rect, before);
    return rect;
  }

  /** One undo step: the rectangle's pixels before (from `before`, whole planes) and after. */
  #record(rect, before) {
    const crop = (plane) => {
      const out = new Uint8Array(rect.width * rect.height);
      for (let y = 0; y < rect.height; y++) {
        const from = (rect.y + y) * this.width + rect.x;
        out.set(plane.subarray(from, from + rect.width), y * rect.width);
      }
      return out;
    };
    this.undoSteps.push({ rect, before: before.map(crop), after: this.planes.map(crop) });
    if (this.undoSteps.length > Masks.HISTORY) this.undoSteps.shift();
    this.redoSteps = [];
  }

  #swap(from, to) {
    const step = from.pop();
    if (!step) return null;
    const { rect } = step;
    this.planes.forEach((plane, l) => {
      for (let y = 0; y < rect.height; y++) {
        plane.set(step.before[l].subarray(y * rect.width, (y + 1) * rect.width), (rect.y + y) * this.width + rect.x);
      }
    });
    to.push({ rect, before: step.after, after: step.before });
    return rect;
  }

  #copyRect(source, target, rect) {
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      target.set(source.subarray(y * this.width + rect.x, y * this.width + rect.x + rect.width), y * this.width + rect.x);
    }
  }

  #forgetHistory() {
    this.undoSteps = [];
    this.redoSteps = [];
  }
}
