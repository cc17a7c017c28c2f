// The camera as a photo source and as a live picture: getUserMedia with the rear camera
// preferred (phones), every way it can fail turned into a message a person can act on, and
// the loop that paints its frames as they come (the page's Live, the widget's).

/** The camera could not be used; `message` says why and what to do instead. */
export class CameraError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CameraError';
  }
}

/** A live video stream from the camera (the rear one where there is a choice). */
export async function openCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new CameraError('This browser cannot use a camera on this page (it needs a secure https:// address). Choose a file instead.');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
  } catch (error) {
    throw new CameraError(cameraMessage(error));
  }
}

function cameraMessage(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access was denied. Allow the camera in the browser’s site settings, or choose a file instead.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found on this device. Choose a file instead.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera could not be started (another app may be using it). Choose a file instead.';
    default:
      return `The camera could not be used (${error?.message || error}). Choose a file instead.`;
  }
}

/** Stops every track of `stream`, turning the camera off. */
export function closeCamera(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** The video's current frame as an ImageBitmap, once it has one. */
export async function snapshot(video) {
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) {
    await new Promise((resolve) => video.addEventListener('loadeddata', resolve, { once: true }));
  }
  return createImageBitmap(video);
}

/** Milliseconds over which paintLive() averages the frame rate. */
const RATE_WINDOW_MS = 2000;

/**
 * Paints `video`'s frames onto `canvas` until `signal` aborts: each time the engine is free,
 * the newest frame is taken and `paint(frame)` (an ImageBitmap in, one out) painted; the
 * frames that came meanwhile are dropped, never queued. `onFrame({fps})` after each frame
 * shown (`fps` over the last two seconds). Rejects with the signal's reason when stopped, or
 * with what `paint` threw.
 */
export async function paintLive(video, canvas, paint, signal, onFrame) {
  const frames = newFrames(video, signal);
  const times = [];
  try {
    while (!signal.aborted) {
      await frames.next();
      const frame = await createImageBitmap(video);
      let painted = null;
      try {
        painted = await paint(frame);
        if (signal.aborted) break;
        canvas.width = painted.width;
        canvas.height = painted.height;
        canvas.getContext('2d').drawImage(painted, 0, 0);
      } finally {
        frame.close();
        painted?.close();
      }
      const now = performance.now();
      times.push(now);
      while (times.length > 2 && now - times[0] > RATE_WINDOW_MS) times.shift();
      onFrame({ fps: times.length > 1 ? ((times.length - 1) * 1000) / (now - times[0]) : 0 });
    }
  } finally {
    frames.stop();
  }
  throw signal.reason;
}

/**
 * Counts the frames `video` shows (requestVideoFrameCallback, else each animation frame once
 * it has data): `next()` resolves at once when one came since the last call (the engine was
 * slower than the camera), else with the next one; it rejects when `signal` aborts.
 */
function newFrames(video, signal) {
  let shown = 0;
  let taken = 0;
  let waiting = null;
  let stopped = false;
  const watch = () => {
    if (stopped) return;
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(tick);
    else requestAnimationFrame(() => (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA ? tick() : watch()));
  };
  function tick() {
    shown++;
    waiting?.();
    watch();
  }
  watch();
  return {
    next() {
      if (shown > taken) {
        taken = shown;
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const abort = () => reject(signal.reason);
        if (signal.aborted) return abort();
        signal.addEventListener('abort', abort, { once: true });
        waiting = () => {
          waiting = null;
          taken = shown;
          signal.removeEventListener('abort', abort);
          resolve();
        };
      });
    },
    stop() {
      stopped = true;
    },
  };
}
