// Stylizing a video file in the browser: every frame, resized, is painted by a function and
// encoded again into a WebM, the sound kept. Reading, decoding, encoding and writing are
// mediabunny's (vendor/mediabunny.js, over WebCodecs): its Conversion decodes the frames in
// order, one at a time, and waits for each painted frame before asking for the next, so memory
// stays flat however long the video; the file is written in chunks into Blobs (which the
// browser may keep on disk).

/** Video codecs a WebM may hold, by preference: the first this browser can encode is used. */
const VIDEO_CODECS = ['vp9', 'vp8', 'av1'];
/** Audio codecs a WebM may hold: a track in one of them is copied, any other is encoded as the first the browser can. */
const AUDIO_CODECS = ['opus', 'vorbis'];
/** Bytes the writer gathers before handing them to a Blob. */
const CHUNK = 1 << 22;

/** A file that is no video this browser can decode (its `message` is for the user). */
export class VideoInputError extends Error {
  constructor(reason, options) {
    super(`This file is not a video the browser can decode: ${reason}`, options);
    this.name = 'VideoInputError';
  }
}

/**
 * @typedef {object} VideoProgress
 * @property {number} frame Frames painted so far (1 after the first).
 * @property {number} frames The number of frames, exact for short videos (under 120 frames),
 *   else estimated from the duration and the frame rate of the first 120; never below `frame`.
 * @property {number} elapsedMs Time since the call began.
 * @property {number} remainingMs Estimated time left, at the mean time per frame so far.
 * @property {ImageData} preview The frame just painted (it is then encoded: do not transfer its buffer).
 * @property {'copied' | 'encoded' | 'dropped' | 'none'} audio What happens to the sound: its
 *   packets copied unchanged (Opus, Vorbis), decoded and encoded again as Opus (AAC, MP3, PCM…),
 *   dropped (a codec this browser cannot decode, or no audio encoder), or there is none.
 */

/**
 * Paints every frame of a video and encodes the result as a WebM (VP9, else VP8 or AV1, as the
 * browser's VideoEncoder allows), each frame at its own timestamp and duration, with the sound
 * of the primary audio track (see {@link VideoProgress}.audio).
 *
 * @param {Blob} file An MP4, MOV, WebM, MKV… whose video the browser's WebCodecs can decode.
 * @param {(frame: ImageData) => Promise<ImageData> | ImageData} paint Paints one frame, in
 *   display order: resolves to an ImageData of the same size, which is encoded.
 * @param {object} options
 * @param {number} options.size The frames' long side in pixels; the short side keeps the aspect
 *   ratio. Both are rounded to even numbers, as encoders need.
 * @param {AbortSignal} [options.signal] Cancels: the call rejects with a DOMException named
 *   `AbortError` without waiting for the frame being painted, after closing every decoder,
 *   encoder and frame.
 * @param {(progress: VideoProgress) => void} [options.onProgress] Called after each frame.
 * @param {object} [options.mediabunny] The mediabunny module, for tests; else imported from
 *   ./vendor/mediabunny.js beside this file.
 * @returns {Promise<Blob>} The video, of type `video/webm`. Rejects with a
 *   {@link VideoInputError} for a file that is no video (or has no video track, or one in a
 *   codec this browser cannot decode), with the error of `paint` or `onProgress` when either
 *   throws, and with an Error when the browser can encode no WebM video codec.
 */
export async function stylizeVideo(file, paint, { size, signal, onProgress, mediabunny }) {
  if (!(file instanceof Blob)) throw new TypeError('stylizeVideo: file must be a Blob or a File');
  if (typeof paint !== 'function') throw new TypeError('stylizeVideo: paint must be a function');
  if (!Number.isInteger(size) || size < 2) throw new TypeError(`stylizeVideo: size must be an integer of at least 2 px, got ${size}`);
  const cancelled = () => new DOMException('Stylizing the video was cancelled.', 'AbortError');
  if (signal?.aborted) throw cancelled();
  const mb = mediabunny ?? (await import(new URL('./vendor/mediabunny.js', import.meta.url).href));
  if (signal?.aborted) throw cancelled();

  const start = performance.now();
  const target = blobWriter();
  const input = new mb.Input({ source: new mb.BlobSource(file), formats: mb.ALL_FORMATS });
  const output = new mb.Output({
    format: new mb.WebMOutputFormat(),
    target: new mb.StreamTarget(target.writable, { chunked: true, chunkSize: CHUNK }),
  });
  let conversion = null;
  // Settles only on abort: raced against `paint`, so that cancelling does not wait for it.
  let abortion = new Promise(() => {});
  const onAbort = () => {
    if (conversion?.state === 'executing' || conversion?.state === 'idle') void conversion.cancel();
  };
  let rejectAbortion = () => {};
  if (signal) {
    abortion = new Promise((_, reject) => (rejectAbortion = () => reject(cancelled())));
    abortion.catch(() => {});
    signal.addEventListener('abort', rejectAbortion, { once: true });
    signal.addEventListener('abort', onAbort, { once: true });
  }
  let callerError = null;
  try {
    const { track, width, height, frames } = await openVideo(mb, input, size);
    const codec = await mb.getFirstEncodableVideoCodec(VIDEO_CODECS, { width, height });
    if (!codec) throw new Error('This browser cannot encode video in a WebM (VP9, VP8 or AV1): try another browser.');
    const sound = await planAudio(mb, input);

    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    let frame = 0;
    /** One decoded frame (already at width × height) → the painted frame, at its time. */
    const process = async (sample) => {
      if (signal?.aborted) throw cancelled();
      sample.draw(context, 0, 0, width, height);
      const before = context.getImageData(0, 0, width, height);
      let painted;
      try {
        painted = await Promise.race([paint(before), abortion]);
        if (!(painted instanceof ImageData) || painted.width !== width || painted.height !== height) {
          const got = painted instanceof ImageData ? `${painted.width}×${painted.height}` : String(painted);
          throw new TypeError(`stylizeVideo: paint must resolve to an ImageData of ${width}×${height}, got ${got}`);
        }
        frame++;
        const elapsedMs = performance.now() - start;
        const total = Math.max(frames, frame);
        onProgress?.({ frame, frames: total, elapsedMs, remainingMs: (elapsedMs / frame) * (total - frame), preview: painted, audio: sound.mode });
      } catch (error) {
        if (!signal?.aborted) callerError = error;
        throw error;
      }
      return new mb.VideoSample(painted.data, {
        format: 'RGBX',
        codedWidth: width,
        codedHeight: height,
        timestamp: sample.timestamp,
        duration: sample.duration,
      });
    };

    conversion = await mb.Conversion.init({
      input,
      output,
      tracks: 'primary',
      video: (t) => (t === track ? { width, height, fit: 'fill', codec, process } : { discard: true }),
      audio: (t) => (t === sound.track ? sound.options : { discard: true }),
      showWarnings: false,
    });
    const lost = conversion.discardedTracks.find((d) => d.track === track);
    if (lost) throw new Error(`This video cannot be stylized in this browser (${lost.reason.replaceAll('_', ' ')}).`);
    if (sound.track && conversion.discardedTracks.some((d) => d.track === sound.track)) sound.mode = 'dropped';
    if (signal?.aborted) throw cancelled();
    await conversion.execute();
    if (signal?.aborted) throw cancelled();
    return target.blob('video/webm');
  } catch (error) {
    if (signal?.aborted) throw cancelled();
    if (callerError) throw callerError;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    signal?.removeEventListener('abort', rejectAbortion);
    // Closes the encoders (when not finished) and then the decoders.
    if (output.state !== 'finalized') await output.cancel().catch(() => {});
    input.dispose();
  }
}

/** The primary video track, its painted size and its number of frames; VideoInputError when there is none to decode. */
async function openVideo(mb, input, size) {
  let track;
  try {
    track = await input.getPrimaryVideoTrack();
  } catch (error) {
    if (error instanceof mb.UnsupportedInputFormatError) {
      throw new VideoInputError('its format is not one of the video formats it reads (MP4, MOV, WebM, MKV…).', { cause: error });
    }
    throw new VideoInputError(`it cannot be read (${error.message}).`, { cause: error });
  }
  if (!track) throw new VideoInputError('it has no video track.');
  if (!(await track.canDecode())) {
    const codec = (await track.getCodecParameterString()) ?? (await track.getCodec()) ?? 'unknown';
    throw new VideoInputError(`its video codec (${codec}) is not one this browser can decode.`);
  }
  // The size as displayed: square pixels, turned by the rotation the file asks for.
  let [w, h] = [await track.getSquarePixelWidth(), await track.getSquarePixelHeight()];
  if ((await track.getRotation()) % 180) [w, h] = [h, w];
  const even = (n) => Math.max(2, 2 * Math.round(n / 2));
  const scale = size / Math.max(w, h);
  const stats = await track.computePacketStats(120);
  let frames = stats.packetCount;
  if (frames >= 120) {
    const end = (await track.getDurationFromMetadata()) ?? (await track.computeDuration());
    frames = Math.max(frames, Math.round((end - (await track.getFirstTimestamp())) * stats.averagePacketRate));
  }
  return { track, width: even(w * scale), height: even(h * scale), frames };
}

/**
 * What happens to the sound of the primary audio track, and the Conversion's options for it.
 * @returns {Promise<{ mode: VideoProgress['audio'], track: object | null, options: object }>}
 */
async function planAudio(mb, input) {
  const track = await input.getPrimaryAudioTrack();
  if (!track) return { mode: 'none', track: null, options: { discard: true } };
  if (AUDIO_CODECS.includes(await track.getCodec())) return { mode: 'copied', track, options: {} };
  const codec = (await track.canDecode()) ? await mb.getFirstEncodableAudioCodec(AUDIO_CODECS) : null;
  if (!codec) return { mode: 'dropped', track, options: { discard: true } };
  return { mode: 'encoded', track, options: { codec } };
}

/**
 * A file written at positions, as mediabunny's StreamTarget writes (`{data, position}`), kept as
 * a list of Blobs (which the browser may keep on disk) rather than one buffer: the writes go on
 * at the end mostly, but the muxer goes back to fill in sizes, and a chunk may come before the
 * one in front of it (the gap is zeros until then). `blob(type)` is the file so far. Exported
 * for the tests.
 *
 * @returns {{ writable: WritableStream<{ data: Uint8Array, position: number }>, blob: (type: string) => Blob }}
 */
export function blobWriter() {
  /** Contiguous from byte 0: each piece's start and its bytes. */
  const pieces = [];
  let end = 0;
  const append = (blob) => {
    pieces.push({ start: end, blob });
    end += blob.size;
  };
  const writable = new WritableStream({
    write({ data, position }) {
      if (position > end) append(new Blob([new Uint8Array(position - end)]));
      if (!data.byteLength) return;
      if (position === end) return append(new Blob([data]));
      const stop = position + data.byteLength;
      const first = pieces.findIndex((p) => p.start + p.blob.size > position);
      let last = pieces.findIndex((p) => p.start + p.blob.size >= stop);
      if (last < 0) last = pieces.length - 1;
      const { start } = pieces[first];
      const tail = pieces[last];
      const blob = new Blob([pieces[first].blob.slice(0, position - start), data, tail.blob.slice(stop - tail.start)]);
      pieces.splice(first, last - first + 1, { start, blob });
      end = Math.max(end, stop);
    },
  });
  return { writable, blob: (type) => new Blob(pieces.map((p) => p.blob), { type }) };
}
