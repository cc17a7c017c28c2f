//! The Gatys et al. (2016) optimisation: coarse-to-fine, several styles, progress and
//! cancellation, with every device read awaited so the same code runs in the browser.

use std::ops::ControlFlow;

use burn::tensor::{Device, ExecutionError, Tensor};

use crate::color::transfer_luminance;
use crate::fast::FastNetwork;
use crate::image::Image;
use crate::mask::Mask;
use crate::objective::{min_side, targets, tiling, whole_gradient};
use crate::optim::PixelOptimizer;
use crate::options::{Colors, Init, StyleOptions};
use crate::profile::{Phases, Stopwatch};
pub use crate::report::{Losses, Progress, Rect, StylizeError, Stylized, TileProgress};
use crate::schedule::{largest_buffer, schedule};
use crate::start::{Start, fast_style};
use crate::style::{StyleImage, check_masks, check_styles, recolored, shares};
use crate::tiles::{Tile, tiled_gradient};
use crate::vgg::Vgg16;

mod average;
mod evaluate;
mod setup;

use average::{Average, terms};

/// VGG16, and optionally the feed-forward network, on one device, ready to stylize any number
/// of images.
#[derive(Debug, Clone)]
pub struct Stylizer {
    vgg: Vgg16,
    fast: Option<FastNetwork>,
    device: Device,
    max_buffer: Option<u64>,
}

impl Stylizer {
    /// Optimises an image whose VGG features match `content` and whose Gram matrices match
    /// the blend of `styles`.
    ///
    /// `on_progress` runs after every iteration, first with the starting picture when it is
    /// the fast start (or when there are no iterations), and after every tile of a tiled
    /// iteration; returning [`ControlFlow::Break`] stops the run with
    /// [`StylizeError::Cancelled`] before the next iteration (or tile) starts. With 0 iterations the
    /// result is the starting picture at [`StyleOptions::size`].
    ///
    /// The start is made at the output size; the coarser scales refine its broad forms and
    /// keep its detail (see `Start::carry`). No picture the run shows or returns scores worse
    /// than the start on the objective at its scale: each scale keeps its best point, and
    /// every scale after the first scores the start there as its second point. So the result
    /// scores at most the start's objective at the output size, and is the start itself
    /// ([`Stylized::start_kept`]) when no step improved on it.
    pub async fn stylize(
        &self,
        content: &Image,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
        mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Stylized, StylizeError> {
        // One body for every caller's callback type: compiled once, in this crate, rather
        // than again in each binary and test that calls it.
        self.run(content, None, None, styles, options, &mut on_progress)
            .await
    }

    /// [`stylize`](Self::stylize) from `start`, a picture of `content` (any size; resized to
    /// the output's), instead of the start [`StyleOptions::init`] makes: a video frame's
    /// refinement starts from its picture steadied by the last frame's result
    /// ([`crate::FramePainter`]).
    pub async fn stylize_from(
        &self,
        content: &Image,
        start: &Image,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
        mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Stylized, StylizeError> {
        self.run(
            content,
            None,
            Some(start),
            styles,
            options,
            &mut on_progress,
        )
        .await
    }

    /// [`stylize`](Self::stylize), with the photo kept where `keep` is drawn (a
    /// region that takes no style: Gatys et al. 2017's spatial control, with the paintings'
    /// own masks in [`StyleImage::mask`]). Masks are refused with [`StylizeError::Masks`]
    /// before any work when they are not the photo's shape or leave nothing to paint.
    pub async fn stylize_keeping(
        &self,
        content: &Image,
        keep: Option<&Mask>,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
        mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Stylized, StylizeError> {
        self.run(content, keep, None, styles, options, &mut on_progress)
            .await
    }

    async fn run(
        &self,
        content: &Image,
        keep: Option<&Mask>,
        given: Option<&Image>,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
        on_progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Stylized, StylizeError> {
        options.validate()?;
        check_styles(styles)?;
        check_masks([content.width(), content.height()], styles, keep)?;
        if let Some(limit) = self.max_buffer {
            let size = |image: &Image| [image.width(), image.height()];
            let sizes: Vec<[u32; 2]> = styles.iter().map(|s| size(s.image)).collect();
            let (needed, what) = largest_buffer(size(content), &sizes, options)?;
            if needed > limit {
                return Err(StylizeError::TooLarge {
                    needed,
                    limit,
                    what,
                });
            }
        }
        // What the objective and the start see (the luminance, or recoloured paintings);
        // the photo itself gives the result its colours.
        let photo = content;
        let recolored = recolored(options.colors, content, styles);
        let recolored_styles: Vec<StyleImage<'_>>;
        let (content, styles) = match &recolored {
            None => (content, styles),
            Some((content, paintings)) => {
                recolored_styles = (paintings.iter().zip(styles))
                    .map(|((image, blend), style)| StyleImage {
                        image,
                        blend: *blend,
                        mask: style.mask,
                    })
                    .collect();
                (content, recolored_styles.as_slice())
            }
        };
        let min_side = min_side(options);
        let plan = schedule([content.width(), content.height()], options, min_side)?;
        let total: u32 = plan.iter().map(|s| s.1).sum();
        let (width, height) = content.size_for_long_side(options.size);
        let fast = match options.init {
            Init::Fast if given.is_none() => {
                let network = self.fast.as_ref().ok_or(StylizeError::NoFastNetwork)?;
                let shares = shares(styles, keep, width, height);
                Some((
                    network,
                    fast_style(network, content, styles, shares, options),
                ))
            }
            _ => None,
        };
        let content_out = photo.resize(width, height);

        // The start, made at the output size and shown first.
        let mut clock = Stopwatch::start();
        let with_fast = fast.is_some();
        let start = match given {
            Some(picture) => Start::given(picture, (width, height), &self.device),
            None => Start::new(content, (width, height), options, fast, &self.device).await?,
        };
        if with_fast || total == 0 {
            let network = clock.lap();
            let preview = match options.preview_every > 0 {
                true => Some(
                    self.render(start.tensor().clone(), &content_out, options)
                        .await?,
                ),
                false => None,
            };
            let phases = Phases {
                network,
                preview: clock.lap(),
                ..Phases::default()
            };
            let (w, h) = content.size_for_long_side(plan[0].0);
            let report = Progress {
                iteration: 0,
                tile: None,
                total,
                scale: 0,
                scales: plan.len(),
                width: w,
                height: h,
                losses: None,
                image: preview,
                phases,
            };
            if on_progress(report).is_break() {
                return Err(StylizeError::Cancelled);
            }
        }
        // Quick mode: the start is the result.
        if total == 0 {
            return Ok(Stylized {
                image: self
                    .render(start.tensor().clone(), &content_out, options)
                    .await?,
                losses: None,
                iterations: 0,
                start_kept: false,
            });
        }

        let vgg = self.vgg.with_architecture(options.padding, options.pooling);
        let mut done = 0;
        // The best picture of the previous scale, with the start at that scale.
        let mut carried: Option<(Best, Tensor<4>)> = None;
        for (scale, &(side, count)) in plan.iter().enumerate() {
            let (width, height) = content.size_for_long_side(side);
            let content_here = content.resize(width, height);
            let start_here = start.at(width, height);
            // A report at this scale; only these fields vary.
            let report = |iteration, tile, losses, image, phases| Progress {
                iteration,
                tile,
                total,
                scale,
                scales: plan.len(),
                width,
                height,
                losses,
                image,
                phases,
            };
            // From the start, or the last scale's best carried here; then the start is
            // scored too (second), so the best never scores worse than the start here.
            let mut image = match &carried {
                None => start_here.clone(),
                Some((best, from)) => start.carry(best.image.clone(), from, &start_here),
            };
            let scores_start = |k: u32| match scale {
                0 => k == 0,
                _ => k == 1,
            };
            let targets = targets(&vgg, &content_here, styles, keep, options, side, min_side);
            // Images over the memory budget run tile by tile; each painted region adds to
            // what a pass needs.
            let regions = targets.regions.iter().filter(|r| r.guide.is_some()).count();
            let tiling = tiling(height as usize, width as usize, options, regions);
            let mut optimizer = PixelOptimizer::new(options, width, height);
            let mut best: Option<Best> = None;
            let mut average = Average::new(options.average_decay);
            for k in 0..count {
                done += 1;
                // The iterates, not the start proposed as a scale's second point.
                if let Some(average) = average.as_mut().filter(|_| !(scale > 0 && k == 1)) {
                    average.add(&image);
                }
                let mut clock = Stopwatch::start();
                let (terms, gradient) = match tiling {
                    None => whole_gradient(&vgg, &image, &targets, options),
                    Some(tiling) => {
                        let on_tile = |k: usize, n: usize, t: &Tile| {
                            let tile = Some(TileProgress {
                                done: k as u32,
                                count: n as u32,
                                region: t.interior,
                            });
                            let phases = Phases::default();
                            on_progress(report(done, tile, None, None, phases)).is_continue()
                        };
                        tiled_gradient(&vgg, &image, &targets, options, tiling, on_tile)
                            .ok_or(StylizeError::Cancelled)?
                    }
                };
                let network = clock.lap();
                let mut scalars = terms.to_vec();
                scalars.extend(optimizer.scalars(&image, &gradient));
                let values = read_scalars(scalars).await?;
                let read = clock.lap();
                let losses = Losses::from_terms(&values);
                if !losses.total.is_finite() {
                    return Err(StylizeError::Diverged(done));
                }
                if best.as_ref().is_none_or(|b| losses.total < b.losses.total) {
                    best = Some(Best {
                        image: image.clone(),
                        losses,
                        is_start: scores_start(k),
                    });
                }
                let next = optimizer.step(image, gradient, losses.total, &values[3..]);
                image = match scale > 0 && k == 0 {
                    true => optimizer.propose(next, start_here.clone()),
                    false => next,
                };
                let stepped = clock.lap();
                let preview = options.preview_every > 0
                    && (done % options.preview_every == 0 || done == total);
                let preview = match (preview, &best) {
                    (true, Some(best)) => {
                        let shown = start.carry(best.image.clone(), &start_here, start.tensor());
                        Some(self.render(shown, &content_out, options).await?)
                    }
                    _ => None,
                };
                let phases = Phases {
                    network,
                    read,
                    optimizer: stepped,
                    preview: clock.lap(),
                };
                let report = report(done, None, Some(losses), preview, phases);
                if on_progress(report).is_break() {
                    return Err(StylizeError::Cancelled);
                }
            }
            let mut best = best.expect("every scale has iterations");
            // The iterates' average goes on instead of the best iterate if it scores lower.
            if let Some(image) = average.and_then(|a| a.value()) {
                let terms = terms(&vgg, &image, &targets, options, tiling);
                let losses = Losses::from_terms(&read_scalars(terms.to_vec()).await?);
                if losses.total < best.losses.total {
                    best = Best {
                        image,
                        losses,
                        is_start: false,
                    };
                }
            }
            carried = Some((best, start_here));
        }
        // The schedule always ends at `options.size`, so the last scale is the output's.
        let (best, _) = carried.expect("at least one scale");
        Ok(Stylized {
            image: self.render(best.image, &content_out, options).await?,
            losses: Some(best.losses),
            iterations: done,
            start_kept: best.is_start,
        })
    }

    async fn render(
        &self,
        image: Tensor<4>,
        content: &Image,
        options: &StyleOptions,
    ) -> Result<Image, StylizeError> {
        let image = Image::from_tensor(image).await?;
        Ok(match options.colors {
            Colors::Photo | Colors::Luminance => transfer_luminance(&image, content),
            Colors::Painting | Colors::Match => image,
        })
    }
}

/// The best point evaluated at a scale: what a preview shows and the scale hands on.
struct Best {
    image: Tensor<4>,
    losses: Losses,
    /// Whether it is the start (at this scale).
    is_start: bool,
}

/// Reads scalars (each `[1]`) from the device in one transfer.
async fn read_scalars(scalars: Vec<Tensor<1>>) -> Result<Vec<f32>, ExecutionError> {
    Ok(Tensor::cat(scalars, 0)
        .into_data_async()
        .await?
        .try_into_vec::<f32>()
        .expect("scalars are f32"))
}

#[cfg(test)]
mod tests;
