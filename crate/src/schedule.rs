//! The coarse-to-fine schedule of a run: which sizes, and how many iterations at each.

use crate::engine::StylizeError;
use crate::image::Image;
use crate::options::StyleOptions;

/// The scales (longer side) whose shorter side the network can take, each with its
/// iterations; always ends at [`StyleOptions::size`]. With 0 iterations, that one scale.
pub(crate) fn schedule(
    content: &Image,
    options: &StyleOptions,
    min_side: u32,
) -> Result<Vec<(u32, u32)>, StylizeError> {
    let fits = |side: u32| {
        let (w, h) = content.size_for_long_side(side);
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
