// Types of the embeddable widget (widget.js), for the npm package's `@style-transfer/engine/widget`;
// checked against their use by `tsc --noEmit` in tests/browser/package.test.mjs. Importing the
// module defines the `<style-transfer>` element (unless the name is taken).

import type { ImageInput, MaskInput, Progress, StyleOptions } from './stylizer.js';

/** `run()` was called while a run (or Live) is going; that goes on. */
export class BusyError extends Error {}

/** The events `<style-transfer>` dispatches, with their `detail`. */
export interface StyleTransferEventMap {
  /**
   * The engine is ready. `threads`: the CPU engine's threads (1 on WebGPU); `singleThreaded`:
   * why one, where more were asked for (a host page that is not cross-origin isolated).
   */
  load: CustomEvent<{ backend: 'webgpu' | 'cpu'; threads: number; singleThreaded?: string }>;
  /** The engine's progress, as `stylize`'s onProgress gets it. */
  progress: CustomEvent<Progress>;
  done: CustomEvent<{ image: ImageData }>;
  error: CustomEvent<{ message: string; name: string }>;
  /** Live: a frame was shown; `fps` over the last two seconds, `ms` the engine's time for it. */
  frame: CustomEvent<{ fps: number; ms: number | null }>;
}

/**
 * `<style-transfer style-src="starry-night" size="384">`: attributes `style-src` (a painting's
 * URL relative to the page, or a preset name: starry-night, the-scream, shipwreck,
 * great-wave, udnie), `size`, `iterations`, `look` (`painterly` | `faithful`), `colors` (as the option), `backend`
 * ('auto' | 'webgpu' | 'cpu'); left out, the engine's defaults for its device; `live` (present:
 * a Live button paints the camera).
 */
export class StyleTransferElement extends HTMLElement {
  /** The photo. */
  content: ImageInput | null;
  /** The painting, taking precedence over `style-src`. */
  styleImage: ImageInput | null;
  /** Where the painting goes (white = the painting; the photo is kept elsewhere); null: everywhere. */
  styleMask: MaskInput | null;
  /** Where the photo is kept (no style there); null: nowhere. */
  keepMask: MaskInput | null;
  /** Engine options on top of the attributes. */
  options: StyleOptions;
  /** Starts a run; resolves to the result, rejects with BusyError while one is going. */
  run(): Promise<ImageData>;
  /** Stops a run. */
  cancel(): void;
  /** Paints the camera live in the painting's style; resolves when stopped (stopLive(), a hidden tab, removal). */
  live(): Promise<void>;
  /** Stops the live camera and releases it. */
  stopLive(): void;
  addEventListener<K extends keyof StyleTransferEventMap>(
    type: K,
    listener: (this: StyleTransferElement, event: StyleTransferEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'style-transfer': StyleTransferElement;
  }
}
