// The camera as a photo source: getUserMedia with the rear camera preferred (phones), and
// every way it can fail turned into a message a person can act on.

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
