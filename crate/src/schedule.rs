//! The coarse-to-fine schedule of a run: which sizes, and how many iterations at each.

use crate::engine::StylizeError;
use crate::image::size_for_long_side;
use crate::objective::{min_side, tiling};
use crate::options::StyleOptions;
use crate::tiles::tiles;

/// One scale of a run, as [`plan`] foresees it.
#[derive(Debug, Clone, Copy, PartialEq)]
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
            let (tiles, work) = match tiling(h as usize, w as usize, options) {
                None => (1, f64::from(w * h)),
                Some(t) => {
                    let all = tiles(h as usize, w as usize, t.side, t.halo);
                    let outer: usize = all.iter().map(|t| t.outer[2] * t.outer[3]).sum();
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
            iterations: 10,
            ..Default::default()
        };
        let scales = plan(4096, 3072, &options).unwrap();
        let last = scales.last().unwrap();
        assert_eq!((last.width, last.height, last.lbfgs_pairs), (4096, 3072, 3));
        assert_eq!(scales[0].lbfgs_pairs, 10);
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
}
