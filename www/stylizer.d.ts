// Types of the JavaScript API (stylizer.js), checked against their use by `tsc --noEmit` in
// tests/browser/package.test.mjs. The engine's options are its StyleOptions (Rust,
// crate/src/options.rs) in camelCase; every key is optional, the engine's defaults for its
// device fill in the rest (`stylizer.defaults`).

/** A VGG16 layer by name. */
export type VggLayer =
  | 'relu1_1' | 'relu1_2' | 'relu2_1' | 'relu2_2' | 'relu3_1' | 'relu3_2' | 'relu3_3'
  | 'relu4_1' | 'relu4_2' | 'relu4_3' | 'relu5_1';

/** The engine's options; an unknown key or a value out of range rejects with OptionsError. */
export interface StyleOptions {
  /** Longer side of the output, in pixels. */
  size?: number;
  /** Steps of the optimisation over all scales; 0 is the feed-forward picture alone (Quick). */
  iterations?: number;
  contentWeight?: number;
  /** Weight of the style loss (each painting's share of the style is its `blend`). */
  styleWeight?: number;
  tvWeight?: number;
  /** Paintings are seen at `styleScale ×` the output size; it scales the strokes. */
  styleScale?: number;
  minScale?: number;
  scaleStep?: number;
  init?: 'fast' | 'content' | 'noise';
  /** 0–1: how much of the paintings' style the fast start takes, the rest the photo's. */
  fastStrength?: number;
  /** 0–1: how much of the network's picture the start takes, the rest the photo. */
  fastMix?: number;
  /**
   * Video frames: 0–1, how much of the previous frame's picture each keeps where the scene did
   * not change (the camera's shift undone); 0 paints each frame on its own.
   */
  frameStability?: number;
  seed?: number;
  optimizer?: 'lbfgs' | 'adam';
  lbfgsHistory?: number;
  learningRate?: number;
  /** 0–1 (below 1): decay of a moving average of each scale's iterates, kept when it scores lower; 0 none. */
  averageDecay?: number;
  /**
   * Whose colours the result has: the painting's; the photo's, put back afterwards; the
   * photo's, with only the luminance stylized (Gatys et al. 2017); or the painting's texture
   * with the painting first recoloured to the photo's palette.
   */
  colors?: 'painting' | 'photo' | 'luminance' | 'match';
  contentLayer?: VggLayer;
  /** Style layers, each with its weight. */
  styleLayers?: Array<[VggLayer, number]>;
  /** What the style loss compares: Gram matrices, or the features' mean and covariance. */
  styleLoss?: 'gram' | 'wasserstein';
  /** The style layers' weights as given, or scaled 256:64:16:4:1 from shallow to deep. */
  styleLayerWeights?: 'equal' | 'coarse-to-fine';
  /** How VGG16's first convolution sees past the picture's edge. */
  padding?: 'zero' | 'replicate' | 'reflect';
  /** VGG16's pooling. */
  pooling?: 'max' | 'average';
  /** How the paintings are resampled to each scale. */
  styleFilter?: 'triangle' | 'lanczos3';
  /** Attach the best picture so far to every `previewEvery`-th report; 0 never. */
  previewEvery?: number;
  /** MiB one pass of a network may take; larger pictures run tile by tile. */
  memoryBudget?: number;
}

/** The limits of the options, as the engine checks them. */
export interface Limits {
  minSize: number;
  maxSize: number;
  maxIterations: number;
  minMemoryBudget: number;
  maxMemoryBudget: number;
  maxStyleScale: number;
  /** The scale step must be above this … */
  minScaleStep: number;
  /** … and at most this. */
  maxScaleStep: number;
}

/** A named preset: a size and a number of steps over the defaults. */
export interface Preset {
  name: 'quick' | 'draft' | 'balanced' | 'best';
  size: number;
  iterations: number;
}

/** A named look over the defaults: how much of the photo the picture keeps. */
export interface Look {
  name: 'painterly' | 'faithful';
  contentWeight: number;
}

/** The weighted loss terms of a step (`total` their sum). */
export interface Losses {
  content: number;
  style: number;
  tv: number;
  total: number;
}

/** A rectangle of pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What a run reports: first the starting picture (iteration 0), then after every step. */
export interface Progress {
  iteration: number;
  total: number;
  scale: number;
  scales: number;
  width: number;
  height: number;
  /** The step's losses; null for the starting picture and during a tiled step. */
  losses: Losses | null;
  /** Milliseconds of the step's phases. */
  phases: { network: number; read: number; optimizer: number; preview: number };
  /** During a tiled step: the tile just finished, its interior at this scale. */
  tile?: { done: number; count: number } & Rect;
  /** The best picture so far at the output size, every `previewEvery` steps. */
  image?: ImageData;
}

/** One scale of a run as the engine plans it. */
export interface ScalePlan {
  width: number;
  height: number;
  iterations: number;
  tiles: number;
  /** An iteration's cost in pixels of a whole-image forward and backward pass. */
  work: number;
  lbfgsPairs: number;
}

export interface StylizeResult {
  image: ImageData;
  backend: 'webgpu' | 'cpu';
  iterations: number;
  msPerIteration: number;
  losses: Losses | null;
  /** No step improved on the starting picture, so the result is that picture. */
  startKept: boolean;
  /** Shader pipelines the GPU compiled during the run. */
  pipelines: number;
}

export type ImageInput = ImageBitmap | ImageData | Blob;

export type Status =
  | { stage: 'weights'; loaded: number; total: number; cached: boolean }
  | { stage: 'starting' }
  | { stage: 'engine'; loaded: number; total: number }
  | { stage: 'warming' }
  | {
      stage: 'ready';
      backend: 'webgpu' | 'cpu';
      /** Why an 'auto' engine runs on the CPU. */
      fallback?: string;
      /** The threads the CPU engine computes on (1 on WebGPU). */
      threads: number;
      /** Why the CPU engine runs on one thread though more were asked for (a page not cross-origin isolated). */
      singleThreaded?: string;
      warmUp: { pipelines: number; ms: number; error: string | null } | null;
    };

export interface StylizerSettings {
  backend?: 'auto' | 'webgpu' | 'cpu';
  /**
   * The CPU engine's threads, 1 to 64 (default: the machine's cores, at most 8). More than one
   * needs a cross-origin-isolated page (COOP same-origin, COEP require-corp or credentialless);
   * elsewhere it runs on one and 'ready' says why.
   */
  threads?: number;
  onStatus?: (status: Status) => void;
  signal?: AbortSignal;
  /** The options of the runs to come, whose GPU pipelines the warm-up compiles; false: none. */
  warmUp?: StyleOptions | false;
  kernel?: 'gemm' | 'direct';
  weights?: { vgg?: { url: string; sha256: string }; fast?: { url: string; sha256: string } };
  workerUrl?: string | URL;
  /** The engine's worker starts only once this settles. */
  startAfter?: Promise<unknown>;
}

/**
 * A mask in the photo's shape at any size: white (or opaque paint) where it applies, black or
 * transparent where not, soft edges blend; `{width, height, data}` holds one byte a pixel.
 */
export type MaskInput =
  | ImageData
  | ImageBitmap
  | HTMLCanvasElement
  | OffscreenCanvas
  | { width: number; height: number; data: Uint8Array };

/** A painting of a run. */
export interface StyleInput {
  image: ImageInput;
  /** Its share of the style where paintings blend or overlap (default 1). */
  blend?: number;
  /**
   * Where it goes (Gatys et al. 2017's spatial control); left out: the whole picture. With
   * any mask, each painting is matched in its own region instead of blended.
   */
  mask?: MaskInput;
}

export interface StylizeRequest {
  content: ImageInput;
  /** One or more paintings. */
  styles: StyleInput[];
  /** Where the photo is kept (no style there); masks that leave nothing to paint are an OptionsError. */
  keepMask?: MaskInput;
  options?: StyleOptions;
  /** May throw: the run then stops and rejects with what it threw. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface Stylizer {
  /** 'webgpu' or 'cpu'. */
  readonly backend: 'webgpu' | 'cpu';
  /** The threads the CPU engine computes on (1 on WebGPU). */
  readonly threads: number;
  /** The engine's options on this device, every key: what options left out take. */
  readonly defaults: Required<StyleOptions>;
  readonly limits: Limits;
  /** Fastest first. */
  readonly presets: Preset[];
  /** The default (painterly) first. */
  readonly looks: Look[];
  plan(request: { width: number; height: number; options?: StyleOptions }): Promise<ScalePlan[]>;
  /** Runs one at a time, in call order. */
  stylize(request: StylizeRequest): Promise<StylizeResult>;
  /**
   * The photo in the paintings' colours (their blend's RGB mean and covariance), at once and
   * without a network, at `size` px (the default size when left out); queued with stylize().
   */
  palette(request: {
    content: ImageInput;
    styles: Array<{ image: ImageInput; blend?: number }>;
    size?: number;
    signal?: AbortSignal;
  }): Promise<{ image: ImageData }>;
  /**
   * One frame of a moving picture painted by the feed-forward network (no optimisation unless
   * `options.iterations` asks for steps per frame; 0 by default here), steadied by the frame
   * before; the style is computed once per choice of paintings and options. ImageData in,
   * ImageData out; otherwise an ImageBitmap. Queued with stylize().
   */
  paintFrame<F extends FrameInput>(
    frame: F,
    styles: Array<{ image: ImageInput; blend?: number }>,
    settings?: { options?: StyleOptions; signal?: AbortSignal; restart?: boolean },
  ): Promise<F extends ImageData ? ImageData : ImageBitmap>;
  /** The engine's time for the last frame paintFrame() painted, in milliseconds. */
  readonly frameTime: number | null;
  /**
   * A video file stylized frame by frame and encoded to a WebM (VP9 where the browser's
   * encoder has it), the sound copied; VideoInputError for a file the browser cannot decode.
   */
  stylizeVideo(
    file: Blob,
    options: StyleOptions | undefined,
    settings: {
      styles: Array<{ image: ImageInput; blend?: number }>;
      signal?: AbortSignal;
      onProgress?: (progress: VideoProgress) => void;
    },
  ): Promise<Blob>;
  /** Every pending call rejects with AbortError; no worker is left. */
  dispose(): void;
}

/** A video or camera frame paintFrame() takes. */
export type FrameInput = VideoFrame | ImageBitmap | ImageData | HTMLCanvasElement | OffscreenCanvas | HTMLVideoElement;

/** stylizeVideo()'s progress after each frame. */
export interface VideoProgress {
  /** Frames done. */
  frame: number;
  /** Frames in all (estimated from the duration and the frame rate). */
  frames: number;
  elapsedMs: number;
  remainingMs: number;
  /** The frame just painted. */
  preview: ImageData;
  /** What happens to the sound: its packets copied, encoded again as Opus, dropped, or there is none. */
  audio: 'copied' | 'encoded' | 'dropped' | 'none';
}

/** Downloads (or takes from the cache) the weights and starts the engine in a worker. */
export function createStylizer(settings?: StylizerSettings): Promise<Stylizer>;

/** Decodes an image file; ImageInputError when it is not a usable image. */
export function decode(blob: Blob, what?: string): Promise<ImageBitmap>;

/** A run was cancelled through its AbortSignal, or the stylizer was disposed. */
export class AbortError extends Error {}
/** The engine failed: a lost GPU device, a crash in the worker, a diverged run. */
export class EngineError extends Error {}
/** An option is unknown, of the wrong type or out of range. */
export class OptionsError extends Error {}
/** An input that is not a usable image. */
export class ImageInputError extends Error {}
/** A file that is not a video the browser can decode (stylizeVideo()). */
export class VideoInputError extends Error {}
