// The JS API as a TypeScript site uses it, through the npm package's name. Checked by
// `tsc --noEmit --strict` in tests/browser/package.test.mjs, against the installed package;
// each `@ts-expect-error` line must be an error, so types too loose fail the check too.

import {
  AbortError,
  createStylizer,
  OptionsError,
  type Progress,
  type StyleOptions,
  type StylizeResult,
} from '@style-transfer/engine';
import { BusyError, type StyleTransferElement } from '@style-transfer/engine/widget';

export async function stylizeOnce(content: ImageData, painting: Blob): Promise<StylizeResult> {
  const stylizer = await createStylizer({
    backend: 'auto',
    threads: 4,
    onStatus: (s) => {
      if (s.stage === 'ready') console.log(s.backend, s.fallback ?? '', s.threads, s.singleThreaded ?? '', s.warmUp?.pipelines ?? 0);
    },
  });
  const quick = stylizer.presets.find((p) => p.name === 'quick');
  const faithful = stylizer.looks.find((l) => l.name === 'faithful');
  const options: StyleOptions = {
    size: stylizer.defaults.size, iterations: quick?.iterations ?? 0, styleLayers: [['relu1_1', 1]],
    contentWeight: faithful?.contentWeight, styleLoss: 'wasserstein', padding: 'reflect', averageDecay: 0.9,
  };
  const plan = await stylizer.plan({ width: content.width, height: content.height, options });
  console.log(plan.reduce((sum, s) => sum + s.work * s.iterations, 0), stylizer.limits.maxSize);
  const { image: recoloured } = await stylizer.palette({ content, styles: [{ image: painting }], size: 256 });
  console.log(recoloured.width);
  try {
    return await stylizer.stylize({
      content,
      styles: [{ image: painting, blend: 2, mask: new OffscreenCanvas(64, 48) }],
      keepMask: { width: 4, height: 3, data: new Uint8Array(12) },
      options,
      onProgress: (p: Progress) => {
        if (p.tile) console.log(p.tile.done, p.tile.x, p.tile.width);
        if (p.losses) console.log(p.losses.total);
        if (p.image) console.log(p.image.width);
      },
    });
  } catch (error) {
    if (error instanceof AbortError || error instanceof OptionsError) console.log(error.message);
    throw error;
  } finally {
    stylizer.dispose();
  }
}

export async function moving(video: HTMLVideoElement, clip: Blob, painting: ImageBitmap): Promise<Blob> {
  const stylizer = await createStylizer();
  const styles = [{ image: painting, blend: 1 }];
  const bitmap: ImageBitmap = await stylizer.paintFrame(video, styles, { options: { size: 256, frameStability: 0.5 } });
  const data: ImageData = await stylizer.paintFrame(new ImageData(8, 8), styles);
  console.log(bitmap.width, data.data.length, stylizer.frameTime ?? 0);
  return stylizer.stylizeVideo(clip, { size: 384 }, { styles, onProgress: (p) => console.log(p.frame, p.frames, p.preview.width) });
}

export async function misuse(content: ImageData): Promise<void> {
  // @ts-expect-error a backend that does not exist
  await createStylizer({ backend: 'webgl' });
  // @ts-expect-error threads are a number
  await createStylizer({ threads: 'all' });
  const stylizer = await createStylizer();
  // @ts-expect-error an option typo
  const typo: StyleOptions = { styleWieght: 1 };
  // @ts-expect-error an option of the wrong type
  const wrong: StyleOptions = { size: '512' };
  // @ts-expect-error a style without its image
  await stylizer.stylize({ content, styles: [{ blend: 1 }] });
  // @ts-expect-error the palette needs the paintings
  await stylizer.palette({ content });
  // @ts-expect-error a colour mode that does not exist
  const sepia: StyleOptions = { colors: 'sepia' };
  // @ts-expect-error a padding that does not exist
  const circular: StyleOptions = { padding: 'circular' };
  console.log(sepia, circular);
  // @ts-expect-error the engine's defaults are read-only
  stylizer.defaults = { ...stylizer.defaults };
  // @ts-expect-error a mask is a picture or one byte a pixel, not a list of numbers
  await stylizer.stylize({ content, styles: [{ image: content, mask: [0, 1] }] });
  console.log(typo, wrong);
  // @ts-expect-error a video needs its paintings
  await stylizer.stylizeVideo(new Blob(), {}, {});
  // @ts-expect-error an ImageData frame comes back as ImageData, not an ImageBitmap
  const frame: ImageBitmap = await stylizer.paintFrame(content, [{ image: content }]);
  console.log(frame);
}

export async function embed(photo: Blob): Promise<ImageData> {
  const widget: StyleTransferElement = document.createElement('style-transfer');
  widget.setAttribute('style-src', 'starry-night');
  widget.content = photo;
  widget.options = { styleWeight: 200 };
  // The painting in the top half; the photo kept below.
  const top = new Uint8Array(64 * 48).map((_, i) => (i < 64 * 24 ? 255 : 0));
  widget.styleMask = { width: 64, height: 48, data: top };
  widget.addEventListener('progress', (event) => console.log(event.detail.iteration));
  widget.addEventListener('load', (event) => console.log(event.detail.backend));
  document.body.append(widget);
  try {
    return await widget.run();
  } catch (error) {
    if (error instanceof BusyError) widget.cancel();
    throw error;
  }
}

export function misuseWidget(widget: StyleTransferElement): void {
  // @ts-expect-error an option typo, through the widget
  widget.options = { sise: 384 };
  // @ts-expect-error a load event carries the backend, not an image
  widget.addEventListener('load', (event) => console.log(event.detail.image));
}
