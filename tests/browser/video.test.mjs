// www/video.js: stylizing a video file, frame by frame, in Chromium's WebCodecs, without the
// engine (the painting is a colour inversion). Clips are made in the page with the browser's
// encoders and read back with mediabunny.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { copyVendored } from '../../www/vendor.mjs';
import { root, start } from './harness.mjs';

/** A folder with video.js, mediabunny where the site has it, and the test page with its helpers. */
function assemble() {
  const dir = mkdtempSync(join(tmpdir(), 'style-transfer-video-'));
  copyVendored(join(root, 'www'), dir);
  copyFileSync(join(root, 'www', 'video.js'), join(dir, 'video.js'));
  for (const file of ['index.html', 'clips.js']) copyFileSync(join(import.meta.dirname, 'video', file), join(dir, file));
  return dir;
}

const close = (a, b, tolerance, what) => assert.ok(Math.abs(a - b) <= tolerance, `${what}: ${a} is not within ${tolerance} of ${b}`);

/** Each quarter's mean colour in `output`'s frames is 255 minus the input's, within what the codecs lose. */
function inverted(input, output) {
  assert.ok(input.means.length > 0 && output.means.length === input.means.length);
  input.means.forEach((frame, i) =>
    frame.forEach((quarter, q) =>
      quarter.forEach((value, c) => close(output.means[i][q][c], 255 - value, 10, `frame ${i}, quarter ${q}, channel ${c}`)),
    ),
  );
}

describe('video.js', () => {
  let dir;
  let browser;
  let page;
  const messages = [];
  before(async () => {
    dir = assemble();
    browser = await start({ dir, plain: true, webgpu: false });
    page = await browser.context.newPage();
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    await page.goto(browser.url);
    await page.waitForSelector('body[data-loaded]', { state: 'attached' });
    // The clip most tests use: 48 frames of 160 × 120 at 24 fps, VP9, with a sine in Opus.
    await page.evaluate(async () => {
      window.clip = await clips.makeClip();
    });
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('this Chromium’s WebCodecs', async (t) => {
    const support = await page.evaluate(() => clips.support());
    t.diagnostic(JSON.stringify(support));
    for (const codec of ['vp9', 'opus']) assert.ok(support[codec].encode && support[codec].decode, `${codec} is needed by these tests`);
  });

  test('every frame painted, at the size asked, its timing kept, the Opus sound copied', async () => {
    const result = await page.evaluate(async () => {
      const progress = [];
      const painted = [];
      let openMidway;
      const paint = clips.inverter(2);
      // No `mediabunny` option: video.js imports vendor/mediabunny.js itself.
      const blob = await video.stylizeVideo(
        clip,
        async (frame) => {
          painted.push([frame.width, frame.height]);
          return paint(frame);
        },
        {
          size: 96,
          onProgress: ({ frame, frames, elapsedMs, remainingMs, preview, audio }) => {
            progress.push({ frame, frames, elapsedMs, remainingMs, audio, preview: [preview.width, preview.height] });
            if (frame === 10) openMidway = openCodecs();
          },
        },
      );
      const frames = [0, 20, 47];
      return {
        type: blob.type,
        input: await clips.inspect(clip, { means: frames }),
        output: await clips.inspect(blob, { means: frames }),
        progress,
        painted,
        open: openCodecs(),
        openMidway,
      };
    });
    const { input, output, progress } = result;
    assert.equal(result.type, 'video/webm');
    assert.equal(input.frames, 48);
    assert.equal(output.frames, 48);
    assert.ok(['vp9', 'vp8', 'av1'].includes(output.codec), output.codec);
    assert.match(output.mimeType, /^video\/webm/);
    assert.deepEqual([output.width, output.height], [96, 72]);
    assert.ok(result.painted.every(([w, h]) => w === 96 && h === 72), 'paint was given frames of another size');
    assert.deepEqual(output.timestamps.map((t) => t.toFixed(3)), input.timestamps.map((t) => t.toFixed(3)));
    // WebM stores no frame's duration, so a reader gives the last frame none; the file's
    // duration is kept, and a <video> plays it for as long.
    close(output.duration, input.duration, 1 / 24 + 0.001, 'video track duration');
    close(output.fileDuration, input.fileDuration, 0.03, 'file duration');
    close(output.played.duration, input.played.duration, 0.03, 'played duration');
    assert.deepEqual([output.played.width, output.played.height], [96, 72]);
    inverted(input, output);
    // The sound: the same Opus packets.
    assert.equal(output.audio.codec, 'opus');
    assert.equal(output.audio.packets, input.audio.packets);
    close(output.audio.duration, input.audio.duration, 0.001, 'audio duration');
    assert.deepEqual(progress.map((p) => p.frame), Array.from({ length: 48 }, (_, i) => i + 1));
    assert.ok(progress.every((p) => p.frames === 48 && p.audio === 'copied' && p.preview.join() === '96,72'));
    assert.ok(progress.every((p, i) => i === 0 || p.elapsedMs >= progress[i - 1].elapsedMs));
    assert.equal(progress.at(-1).remainingMs, 0);
    // The check of codecs left open sees them while they work.
    assert.ok(result.openMidway.some((c) => c.startsWith('VideoDecoder')) && result.openMidway.some((c) => c.startsWith('VideoEncoder')), result.openMidway.join());
    assert.deepEqual(result.open, [], 'codecs left open');
  });

  test('an MP4, H.264 with PCM sound: the sound encoded as Opus; a portrait one', async () => {
    const result = await page.evaluate(async () => {
      const clip = await clips.makeClip({ frames: 12, width: 90, height: 160, mp4: true, codec: 'avc', audio: 'pcm-s16' });
      const audio = new Set();
      const blob = await video.stylizeVideo(clip, clips.inverter(), { size: 64, mediabunny, onProgress: (p) => audio.add(p.audio) });
      const means = [0, 11];
      return { input: await clips.inspect(clip, { means }), output: await clips.inspect(blob, { means }), audio: [...audio], open: openCodecs() };
    });
    const { input, output } = result;
    assert.deepEqual([input.codec, input.audio.codec], ['avc', 'pcm-s16']);
    assert.deepEqual(result.audio, ['encoded']);
    assert.equal(output.audio.codec, 'opus');
    close(output.audio.duration, input.audio.duration, 0.03, 'audio duration');
    // 64 × 90 / 160 = 36.
    assert.deepEqual([output.width, output.height, output.frames], [36, 64, 12]);
    inverted(input, output);
    assert.deepEqual(result.open, [], 'codecs left open');
  });

  test('a video to be shown turned (as phones record): painted and written upright', async () => {
    const result = await page.evaluate(async () => {
      const clip = await clips.makeClip({ frames: 12, mp4: true, rotation: 90, audio: null });
      const sizes = new Set();
      const blob = await video.stylizeVideo(clip, (frame) => (sizes.add(`${frame.width}×${frame.height}`), clips.inverter()(frame)), { size: 64, mediabunny });
      const means = [0, 11];
      return { input: await clips.inspect(clip, { means }), output: await clips.inspect(blob, { means }), sizes: [...sizes] };
    });
    const { input, output } = result;
    assert.deepEqual([input.rotation, input.width, input.height], [90, 120, 160]);
    assert.deepEqual(result.sizes, ['48×64']);
    assert.deepEqual([output.rotation, output.width, output.height], [0, 48, 64]);
    assert.deepEqual([output.played.width, output.played.height], [48, 64]);
    inverted(input, output);
  });

  test('a longer video without sound: stays without, its frames estimated', async () => {
    const result = await page.evaluate(async () => {
      const clip = await clips.makeClip({ frames: 150, width: 64, height: 48, audio: null });
      const audio = new Set();
      const totals = new Set();
      const onProgress = (p) => {
        audio.add(p.audio);
        totals.add(p.frames);
      };
      const blob = await video.stylizeVideo(clip, clips.inverter(0), { size: 32, mediabunny, onProgress });
      return { output: await clips.inspect(blob), audio: [...audio], totals: [...totals] };
    });
    assert.deepEqual(result.audio, ['none']);
    assert.equal(result.output.audio, null);
    assert.deepEqual([result.output.width, result.output.height, result.output.frames], [32, 24, 150]);
    // Past 120 frames the total is estimated from the duration and the first 120 frames' rate.
    assert.equal(result.totals.length, 1);
    close(result.totals[0], 150, 2, 'estimated frames');
  });

  test('the writer: a file written at positions, gaps and overwrites included, comes out whole', async () => {
    const same = await page.evaluate(async () => {
      const model = new Uint8Array(300_000);
      let size = 0;
      const { writable, blob } = video.blobWriter();
      const writer = writable.getWriter();
      let seed = 7;
      const random = (n) => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n);
      for (let i = 0; i < 400; i++) {
        // Mostly appends; some writes back into the file (within a piece or across several), some past its end.
        const kind = random(10);
        const position = kind < 6 ? size : kind < 9 ? random(size + 1) : size + random(5_000);
        const data = new Uint8Array(random(3_000));
        for (let j = 0; j < data.length; j++) data[j] = random(256);
        if (position + data.length > model.length) break;
        await writer.write({ data, position });
        model.set(data, position);
        size = Math.max(size, position + data.length);
      }
      await writer.close();
      const bytes = new Uint8Array(await blob('x/y').arrayBuffer());
      return bytes.length === size && bytes.every((b, i) => b === model[i]) && size > 100_000;
    });
    assert.ok(same, 'the Blob differs from the bytes written');
  });

  test('cancelling stops within the frame being painted, closes everything, and the next call works', async () => {
    const result = await page.evaluate(async () => {
      const controller = new AbortController();
      let calls = 0;
      let abortedAt = 0;
      const invert = clips.inverter();
      const paint = async (frame) => {
        calls++;
        if (calls === 10) {
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort();
          }, 20);
          await new Promise((done) => setTimeout(done, 2_000)); // a slow painter: not waited for
        }
        return invert(frame);
      };
      let error;
      try {
        await video.stylizeVideo(clip, paint, { size: 96, signal: controller.signal, mediabunny });
      } catch (e) {
        error = e;
      }
      const rejectedAfterMs = performance.now() - abortedAt;
      const open = openCodecs();
      // Already cancelled: rejects at once, paints nothing.
      let early;
      await video.stylizeVideo(clip, paint, { size: 96, signal: AbortSignal.abort(), mediabunny }).catch((e) => (early = e));
      const again = await clips.inspect(await video.stylizeVideo(clip, invert, { size: 48, mediabunny }));
      return {
        error: [error?.constructor.name, error?.name, error?.message],
        early: [early?.name, calls],
        rejectedAfterMs,
        calls,
        open,
        again: [again.width, again.height, again.frames, again.audio?.packets > 0],
        stillOpen: openCodecs(),
      };
    });
    assert.deepEqual(result.error.slice(0, 2), ['DOMException', 'AbortError']);
    assert.deepEqual(result.early, ['AbortError', 10]);
    assert.equal(result.calls, 10, 'frames were painted after the cancel');
    assert.ok(result.rejectedAfterMs < 1_000, `rejected ${result.rejectedAfterMs} ms after the abort`);
    assert.deepEqual(result.open, [], 'codecs left open after the cancel');
    assert.deepEqual(result.again, [48, 36, 48, true]);
    assert.deepEqual(result.stillOpen, []);
  });

  test('files that are no video: VideoInputError, with a message for the user', async () => {
    const errors = await page.evaluate(async () => {
      const random = new Uint8Array(200_000);
      for (let i = 0; i < random.length; i += 65_536) crypto.getRandomValues(random.subarray(i, i + 65_536));
      const canvas = new OffscreenCanvas(64, 48);
      canvas.getContext('2d').fillRect(0, 0, 10, 10);
      const files = {
        random: new Blob([random]),
        empty: new Blob([]),
        png: await canvas.convertToBlob({ type: 'image/png' }),
        sound: await clips.makeClip({ video: false }),
      };
      const out = {};
      for (const [name, file] of Object.entries(files)) {
        let painted = 0;
        try {
          await video.stylizeVideo(file, () => painted++, { size: 64, mediabunny });
          out[name] = 'resolved';
        } catch (e) {
          out[name] = [e.name, e.message, painted];
        }
      }
      return { out, open: openCodecs() };
    });
    for (const [name, [type, message, painted]] of Object.entries(errors.out)) {
      assert.equal(type, 'VideoInputError', `${name}: ${type}: ${message}`);
      assert.match(message, /^This file is not a video the browser can decode: /, name);
      assert.equal(painted, 0);
    }
    assert.match(errors.out.png[1], /format/);
    assert.match(errors.out.sound[1], /no video track/);
    assert.deepEqual(errors.open, []);
  });

  test('an error of paint rejects the call, after closing everything', async () => {
    const result = await page.evaluate(async () => {
      const invert = clips.inverter();
      const failure = new Error('the painter fell over');
      let calls = 0;
      const paint = (frame) => (++calls === 5 ? Promise.reject(failure) : invert(frame));
      const error = await video.stylizeVideo(clip, paint, { size: 64, mediabunny }).catch((e) => e);
      // A frame of another size is refused with a TypeError that says so.
      const wrong = await video.stylizeVideo(clip, () => new ImageData(8, 8), { size: 64, mediabunny }).catch((e) => e);
      return { same: error === failure, calls, wrong: [wrong.name, wrong.message], open: openCodecs() };
    });
    assert.ok(result.same, 'not the error paint threw');
    assert.equal(result.calls, 5);
    assert.deepEqual(result.wrong, ['TypeError', 'stylizeVideo: paint must resolve to an ImageData of 64×48, got 8×8']);
    assert.deepEqual(result.open, []);
  });

  test('no frame left unclosed for the garbage collector, no console error', async () => {
    // Chromium reports frames collected unclosed with a console error, checked every 10 s.
    const cdp = await browser.context.newCDPSession(page);
    for (let i = 0; i < 11; i++) {
      await cdp.send('HeapProfiler.collectGarbage');
      await page.waitForTimeout(1_000);
    }
    assert.deepEqual(messages.filter((m) => /garbage collected/i.test(m)), []);
    assert.deepEqual(browser.errors, []);
  });
});
