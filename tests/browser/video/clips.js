// In the page of tests/browser/video.test.mjs: short clips made with the browser's encoders
// (through mediabunny's sources: VideoEncoder, AudioEncoder), and what a video file holds, read
// back with mediabunny.

import * as mb from './vendor/mediabunny.js';

/** Which codecs this browser's WebCodecs encode and decode (small sizes, common settings). */
export async function support() {
  const video = { vp8: 'vp8', vp9: 'vp09.00.10.08', av1: 'av01.0.04M.08', h264: 'avc1.42001f', hevc: 'hvc1.1.6.L93.B0' };
  const audio = { opus: 'opus', vorbis: 'vorbis', aac: 'mp4a.40.2', mp3: 'mp3', flac: 'flac' };
  const result = {};
  for (const [name, codec] of Object.entries(video)) {
    const config = { codec, width: 160, height: 120 };
    result[name] = {
      encode: (await VideoEncoder.isConfigSupported(config).catch(() => ({}))).supported === true,
      decode: (await VideoDecoder.isConfigSupported({ codec, codedWidth: 160, codedHeight: 120 }).catch(() => ({}))).supported === true,
    };
  }
  for (const [name, codec] of Object.entries(audio)) {
    const config = { codec, sampleRate: 48000, numberOfChannels: 2 };
    result[name] = {
      encode: (await AudioEncoder.isConfigSupported(config).catch(() => ({}))).supported === true,
      decode: (await AudioDecoder.isConfigSupported(config).catch(() => ({}))).supported === true,
    };
  }
  return result;
}

/**
 * A clip of `frames` frames, `width` × `height`, at `fps`: a red ground darkening frame by
 * frame, a blue square moving across; with a 440 Hz sine in `audio` (a mediabunny codec name,
 * or null for none) unless `video` is false (then only the sound). The video in `codec`, to be
 * shown turned by `rotation` degrees clockwise; in a WebM, or an MP4 with `mp4`.
 */
export async function makeClip({ frames = 48, width = 160, height = 120, fps = 24, codec = 'vp9', rotation = 0, audio = 'opus', video = true, mp4 = false } = {}) {
  const output = new mb.Output({
    format: mp4 ? new mb.Mp4OutputFormat() : new mb.WebMOutputFormat(),
    target: new mb.BufferTarget(),
  });
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  const quality = new mb.Quality('high');
  const pictures = video ? new mb.CanvasSource(canvas, { codec, quality }) : null;
  if (pictures) output.addVideoTrack(pictures, { frameRate: fps, rotation });
  const sound = audio ? new mb.AudioSampleSource({ codec: audio, quality }) : null;
  if (sound) output.addAudioTrack(sound);
  await output.start();
  for (let i = 0; pictures && i < frames; i++) {
    context.fillStyle = `rgb(${220 - i * 2}, 70, 40)`;
    context.fillRect(0, 0, width, height);
    context.fillStyle = 'rgb(30, 60, 200)';
    context.fillRect(((width - 40) * i) / frames, height / 4, 40, height / 2);
    await pictures.add(i / fps, 1 / fps);
  }
  if (sound) {
    const sampleRate = 48000;
    const data = new Float32Array(Math.round((frames / fps) * sampleRate));
    for (let i = 0; i < data.length; i++) data[i] = 0.4 * Math.sin((2 * Math.PI * 440 * i) / sampleRate);
    const sample = new mb.AudioSample({ data, format: 'f32', numberOfChannels: 1, sampleRate, timestamp: 0 });
    await sound.add(sample);
    sample.close();
  }
  await output.finalize();
  return new Blob([output.target.buffer], { type: mp4 ? 'video/mp4' : 'video/webm' });
}

/**
 * What `blob` holds: its format and duration (from its metadata, and as a <video> plays it);
 * the video's codec, size (as displayed), rotation, packet timestamps, duration (to the end of
 * its last frame, 0 long when the file does not say) and the mean colour (r, g, b) of each
 * quarter of the frames at the indices in `means`, as displayed; the sound's codec, packet count and duration (null without sound).
 */
export async function inspect(blob, { means = [] } = {}) {
  const input = new mb.Input({ source: new mb.BlobSource(blob), formats: mb.ALL_FORMATS });
  try {
    const track = await input.getPrimaryVideoTrack();
    const timestamps = [];
    for await (const packet of new mb.EncodedPacketSink(track).packets()) timestamps.push(packet.timestamp);
    timestamps.sort((a, b) => a - b);
    const width = await track.getDisplayWidth();
    const height = await track.getDisplayHeight();
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const colours = [];
    let index = 0;
    for await (const sample of new mb.VideoSampleSink(track).samples()) {
      if (means.includes(index)) {
        sample.draw(context, 0, 0, width, height);
        const [w, h] = [width / 2, height / 2];
        colours.push([[0, 0], [w, 0], [0, h], [w, h]].map(([x, y]) => mean(context.getImageData(x, y, w, h))));
      }
      sample.close();
      index++;
    }
    const audioTrack = await input.getPrimaryAudioTrack();
    let audio = null;
    if (audioTrack) {
      let packets = 0;
      for await (const packet of new mb.EncodedPacketSink(audioTrack).packets(undefined, undefined, { metadataOnly: true })) packets += packet ? 1 : 0;
      audio = { codec: await audioTrack.getCodec(), packets, duration: await audioTrack.computeDuration() };
    }
    const player = document.createElement('video');
    player.src = URL.createObjectURL(blob);
    await new Promise((done, fail) => {
      player.onloadedmetadata = done;
      player.onerror = () => fail(new Error(`<video> cannot play it: ${player.error?.message}`));
    });
    URL.revokeObjectURL(player.src);
    return {
      mimeType: await input.getMimeType(),
      fileDuration: await input.getDurationFromMetadata(),
      played: { duration: player.duration, width: player.videoWidth, height: player.videoHeight },
      codec: await track.getCodec(),
      rotation: await track.getRotation(),
      width,
      height,
      frames: index,
      timestamps,
      duration: await track.computeDuration(),
      means: colours,
      audio,
    };
  } finally {
    input.dispose();
  }
}

/** The mean red, green and blue of an ImageData. */
export function mean({ data }) {
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += data[i + c];
  return sum.map((s) => s / (data.length / 4));
}

/** A painting for the tests: the colours inverted, after `delay` ms (a painter takes time). */
export function inverter(delay = 1) {
  return async (frame) => {
    await new Promise((done) => setTimeout(done, delay));
    const out = new ImageData(frame.width, frame.height);
    for (let i = 0; i < frame.data.length; i += 4) {
      out.data[i] = 255 - frame.data[i];
      out.data[i + 1] = 255 - frame.data[i + 1];
      out.data[i + 2] = 255 - frame.data[i + 2];
      out.data[i + 3] = 255;
    }
    return out;
  };
}
