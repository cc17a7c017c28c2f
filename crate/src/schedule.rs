//! The coarse-to-fine schedule of a run: which sizes, and how many iterations at each.

use crate::fast;
use crate::image::size_for_long_side;
use crate::objective::{min_side, style_size, tiling};
use crate::options::{Init, StyleOptions};
use crate::report::StylizeError;
use crate::tiles::{self, tiles};

/// Bytes a pixel of the largest buffer of a VGG16 pass: a conv1 layer's 64 channels in f32.
const VGG_BUFFER_PER_PIXEL: u64 = 64 * 4;

/// One scale of a run, as [`plan`] foresees it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalePlan {
    /// Width of the image at this scale.
    pub width: u32,
    /// Height of the image at this scale.
    pub height: u32,
    /// Iterations at this scale.
    pub iterations: u32,
    /// Tiles an iteration runs in (1: the whole image at once).
    pub tiles: u32,
    /// Work of one iteration in pixels of a whole-image forward and backward pass: the
    /// image's pixels, or for tiles their halos too and the extra forward pass that sums the
    /// Gram matrices (a third of a forward and backward pass).
    pub work: f64,
    /// L-BFGS correction pairs kept at this scale ([`StyleOptions::lbfgs_pairs`]; 0 with Adam).
    pub lbfgs_pairs: u32,
}

/// The scales, iterations and tiles of a run on a `width × height` photo with `options`: what
/// a time estimate needs before the run starts.
pub fn plan(
    width: u32,
    height: u32,
    options: &StyleOptions,
) -> Result<Vec<ScalePlan>, StylizeError> {
    options.validate()?;
    Ok(schedule([width, height], options, min_side(options))?
        .into_iter()
        .map(|(side, iterations)| {
            let (w, h) = size_for_long_side(width, height, side);
            let (tiles, work) = match tiling(h as usize, w as usize, options, 0) {
                None => (1, f64::from(w * h)),
                Some(t) => {
                    let all = tiles(h as usize, w as usize, t.side, t.halo);
                    let outer: u64 = all
                        .iter()
                        .map(|t| u64::from(t.outer.width) * u64::from(t.outer.height))
                        .sum();
                    (all.len() as u32, outer as f64 * 4.0 / 3.0)
                }
            };
            ScalePlan {
                width: w,
                height: h,
                iterations,
                tiles,
                work,
                lbfgs_pairs: options.lbfgs_pairs(w, h),
            }
        })
        .collect())
}

/// The largest buffer a run on a `[width, height]` photo with paintings of `styles` sizes
/// allocates, in bytes, and what it holds. A device whose buffers are smaller cannot run it
/// ([`StylizeError::TooLarge`]). VGG16's passes are bounded by the memory budget (larger
/// pictures go tile by tile); the content target and the picture itself grow with the size.
pub(crate) fn largest_buffer(
    [width, height]: [u32; 2],
    styles: &[[u32; 2]],
    options: &StyleOptions,
) -> Result<(u64, &'static str), StylizeError> {
    let min_side = min_side(options);
    let scales = schedule([width, height], options, min_side)?;
    let pixels = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
    let last = scales[scales.len() - 1].0;
    let whole = pixels(size_for_long_side(width, height, last));
    let budget = options.memory_budget_bytes();
    // The picture, its gradient and the optimiser's images: three f32 channels.
    let mut buffers = vec![(3 * 4 * whole, "the picture")];
    if options.iterations > 0 {
        let largest = styles
            .iter()
            .map(|&s| style_size(s, last, options.style_scale, min_side))
            .map(|[w, h]| pixels((w, h)))
            .fold(whole, u64::max);
        let pass = largest.min(budget / tiles::BYTES_PER_PIXEL);
        buffers.push((VGG_BUFFER_PER_PIXEL * pass, "a pass of VGG16"));
        let layer = options.content_layer;
        let d = layer.downsampling() as u64;
        let target = whole / (d * d) * layer.channels() as u64 * 4;
        buffers.push((target, "the content target"));
    }
    if options.init == Init::Fast {
        // The start is painted at the output size.
        let painted = whole.min(budget / fast::BYTES_PER_PIXEL);
        buffers.push((fast::BUFFER_PER_PIXEL * painted, "the feed-forward network"));
    }
    Ok(buffers
        .into_iter()
        .max_by_key(|b| b.0)
        .expect("the picture at least"))
}

/// The scales (longer side) whose shorter side the network can take, for a photo of
/// `[width, height]`, each with its iterations; always ends at [`StyleOptions::size`]. With 0
/// iterations, that one scale.
pub(crate) fn schedule(
    [width, height]: [u32; 2],
    options: &StyleOptions,
    min_side: u32,
) -> Result<Vec<(u32, u32)>, StylizeError> {
    let fits = |side: u32| {
        let (w, h) = size_for_long_side(width, height, side);
        w.min(h) >= min_side
    };
    if !fits(options.size) {
        return Err(StylizeError::TooNarrow {
            size: options.size,
            min: min_side,
        });
    }
    if options.iterations == 0 {
        return Ok(vec![(options.size, 0)]);
    }
    // Fold the iterations of scales too small for this aspect ratio into the next one.
    let mut kept: Vec<(u32, u32)> = Vec::new();
    let mut carried = 0;
    for (side, count) in options
        .scales()
        .into_iter()
        .zip(options.iterations_per_scale())
    {
        if fits(side) {
            kept.push((side, count + carried));
            carried = 0;
        } else {
            carried += count;
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Optimizer;

    /// L-BFGS's history is two images a pair: 24 B a pixel each. At 4096 × 3072 a pair takes
    /// 288 MiB, so the default 1 GiB budget keeps 3 of the 10 pairs there; smaller scales
    /// keep all 10, and a budget below one pair still keeps one.
    #[test]
    fn lbfgs_keeps_the_pairs_that_fit_in_the_memory_budget() {
        let options = StyleOptions {
            size: 4096,
            iterations: 500,
            ..Default::default()
        };
        let scales = plan(4096, 3072, &options).unwrap();
        let last = scales.last().unwrap();
        assert_eq!((last.width, last.height, last.lbfgs_pairs), (4096, 3072, 3));
        assert_eq!((scales[0].width, scales[0].lbfgs_pairs), (128, 10));
        let tight = StyleOptions {
            memory_budget: 128,
            ..options.clone()
        };
        assert_eq!(
            plan(4096, 3072, &tight)
                .unwrap()
                .last()
                .unwrap()
                .lbfgs_pairs,
            1
        );
        let adam = StyleOptions {
            optimizer: Optimizer::Adam,
            ..options
        };
        assert!(
            plan(4096, 3072, &adam)
                .unwrap()
                .iter()
                .all(|s| s.lbfgs_pairs == 0)
        );
    }

    /// The largest buffers, by hand: VGG16's conv1 output is 256 B a pixel, capped by the
    /// default budget at 1 GiB / 2000 B = 536 870 pixels (137 MB); the relu4_2 content target
    /// is 512 channels an 8 × 8 block, 32 B a pixel; the feed-forward network's 68 B a pixel
    /// up to 1 GiB / 200 B = 5.37 M pixels.
    #[test]
    fn the_largest_buffer_is_named_with_its_size() {
        let options = |size, iterations| StyleOptions {
            size,
            iterations,
            ..Default::default()
        };
        let painting = [[640, 480]];
        let largest = |photo, size, iterations| {
            largest_buffer(photo, &painting, &options(size, iterations)).unwrap()
        };
        let vgg = (256 * 536_870, "a pass of VGG16");
        assert_eq!(largest([4096, 3072], 1024, 10), vgg);
        let target = 4096 * 3072 / 64 * 512 * 4;
        assert_eq!(
            largest([4096, 3072], 4096, 10),
            (target, "the content target")
        );
        let fast = (68 * 5_368_709, "the feed-forward network");
        assert_eq!(largest([4096, 3072], 4096, 0), fast);
        // A small photo: its own pass, not the budget's.
        assert_eq!(
            largest([400, 300], 400, 10),
            (256 * 400 * 300, "a pass of VGG16")
        );
    }
}
