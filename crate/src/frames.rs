//! Moving pictures: the frames of a camera stream or a video painted one after another by the
//! feed-forward network in a style fixed for the whole stream, each steadied by the frame
//! before it where the scene did not change, and optionally refined by a few Gatys steps
//! started from that steadied picture.
//!
//! The network repaints its strokes on every frame, so a still scene shimmers and a panning
//! one boils (flicker, [`flicker`]). Ruder et al. (2016) warp the previous result by the optical
//! flow and penalise change where the flow is reliable. Here the motion is one shift for the
//! whole frame (a camera's pan or shake; [`motion`]), and the previous painting, shifted by it,
//! is mixed into the new one where the input did not change beyond noise
//! ([`StyleOptions::frame_stability`]).

use std::ops::ControlFlow;

use burn::tensor::Tensor;

use crate::color::{luminance, transfer_luminance};
use crate::engine::{StylizeError, Stylizer};
use crate::image::Image;
use crate::options::{Colors, StyleOptions};
use crate::start::{FastStyle, fast_style, paint};
use crate::style::{StyleImage, check_styles, recolored};

/// Largest shift between two frames looked for, in pixels at the coarsest level of the search
/// (each finer level doubles it and adds 1): 4 at 32–64 px, so 19 px at 256 px.
const SEARCH: i32 = 4;

/// Long side of the coarsest level of the shift search.
const COARSEST: u32 = 64;

/// Input change (mean of the RGB channels' absolute differences, 0–1) at which a pixel keeps
/// e⁻¹ of the share of the previous painting it would keep unchanged: camera noise and
/// compression (about 0.01–0.02) keep nearly all of it, a moving edge (0.1 and more) none.
const CHANGE: f32 = 0.04;

/// Paints frame after frame in one style ([`paint`](Self::paint)).
///
/// The style vector is computed once, from the paintings and the first frame (the first
/// frame matters for [`StyleOptions::fast_strength`] below 1, which mixes in the frame's own
/// style, and for the `match` and `luminance` colours, which recolour the paintings to it).
#[derive(Debug)]
pub struct FramePainter {
    stylizer: Stylizer,
    /// The paintings as the network and the objective see them, with their blend weights.
    paintings: Vec<(Image, f32)>,
    options: StyleOptions,
    style: Tensor<2>,
    previous: Option<Painted>,
}

/// A frame at the output size and the picture made of it.
#[derive(Debug)]
struct Painted {
    input: Image,
    output: Image,
}

impl FramePainter {
    /// A painter of frames like `first` (any size; each is scaled to [`StyleOptions::size`])
    /// in the style of `styles`, blended by their weights. Masks do not apply to moving
    /// pictures ([`StylizeError::Masks`]); the feed-forward network must be loaded.
    pub fn new(
        stylizer: &Stylizer,
        first: &Image,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
    ) -> Result<Self, StylizeError> {
        options.validate()?;
        check_styles(styles)?;
        if styles.iter().any(|s| s.mask.is_some()) {
            return Err(StylizeError::Masks(
                "masks do not apply to video frames: paint the whole frame".into(),
            ));
        }
        let network = stylizer.fast().ok_or(StylizeError::NoFastNetwork)?;
        let (width, height) = first.size_for_long_side(options.size);
        let first = first.resize(width, height);
        let (seen, paintings) = match recolored(options.colors, &first, styles) {
            Some((seen, paintings)) => (seen, paintings),
            None => (
                first,
                styles.iter().map(|s| (s.image.clone(), s.blend)).collect(),
            ),
        };
        let style = {
            let styles = style_images(&paintings);
            match fast_style(network, &seen, &styles, None, options) {
                FastStyle::Blended(style) => *style,
                FastStyle::Regions(_) => unreachable!("no masks, so no regions"),
            }
        };
        Ok(Self {
            stylizer: stylizer.clone(),
            paintings,
            options: options.clone(),
            style,
            previous: None,
        })
    }

    /// The options the frames are painted with.
    pub fn options(&self) -> &StyleOptions {
        &self.options
    }

    /// Paints `frame` (any size, scaled to [`StyleOptions::size`] on its long side): the
    /// network's picture, steadied by the previous frame's picture where the scene did not
    /// change; with [`StyleOptions::iterations`] above 0, refined by that many Gatys steps
    /// started from that steadied picture (so from the last result where the scene stayed),
    /// and steadied again. A frame of another shape than the last starts afresh; a frame that
    /// fails leaves the last one to steady the next.
    pub async fn paint(&mut self, frame: &Image) -> Result<Image, StylizeError> {
        let options = &self.options;
        let (width, height) = frame.size_for_long_side(options.size);
        let input = frame.resize(width, height);
        let network = self.stylizer.fast().ok_or(StylizeError::NoFastNetwork)?;
        // The network sees the frame's luminance alone for `luminance` colours; `match`
        // recoloured the paintings, not the frames.
        let seen = match options.colors {
            Colors::Luminance => recolored(options.colors, &input, &[])
                .map_or_else(|| input.clone(), |(grey, _)| grey),
            _ => input.clone(),
        };
        let device = self.stylizer.device();
        let painted = paint(network, &seen, self.style.clone(), options, device);
        let mut output = Image::from_tensor(painted).await?;
        if matches!(options.colors, Colors::Photo | Colors::Luminance) {
            output = transfer_luminance(&output, &input);
        }
        // Kept in place until this frame is done: a failed frame leaves the last one to steady
        // the next.
        let previous = (self.previous.as_ref())
            .filter(|p| (p.input.width(), p.input.height()) == (width, height));
        if let Some(previous) = previous {
            output = steady(previous, &input, output, options.frame_stability);
        }
        if options.iterations > 0 {
            let styles = style_images(&self.paintings);
            let refine = StyleOptions {
                colors: match options.colors {
                    // The paintings are already in the first frame's colours.
                    Colors::Match => Colors::Painting,
                    colors => colors,
                },
                ..options.clone()
            };
            let keep_going = |_| ControlFlow::Continue(());
            let refined = (self.stylizer)
                .stylize_from(&input, &output, &styles, &refine, keep_going)
                .await?;
            // The steps move each frame's pixels their own way: steadied again, as the
            // network's picture was (README, "Moving pictures").
            output = match previous {
                Some(previous) => steady(previous, &input, refined.image, options.frame_stability),
                None => refined.image,
            };
        }
        self.previous = Some(Painted {
            input,
            output: output.clone(),
        });
        Ok(output)
    }
}

/// The paintings with their weights, as the engine takes them.
fn style_images(paintings: &[(Image, f32)]) -> Vec<StyleImage<'_>> {
    (paintings.iter())
        .map(|(image, blend)| StyleImage {
            image,
            blend: *blend,
            mask: None,
        })
        .collect()
}

/// `output` (the picture of `input`) with `previous`'s picture mixed in where the scene did not
/// change: the previous frame is moved by the frames' [`motion`], and each pixel keeps
/// `stability × exp(−(change / CHANGE)²)` of the previous picture, `change` being how much its
/// input changed; pixels the motion brought in from outside take the new picture alone.
fn steady(previous: &Painted, input: &Image, output: Image, stability: f32) -> Image {
    if stability == 0.0 {
        return output;
    }
    let (width, height) = (input.width() as usize, input.height() as usize);
    let (dx, dy) = motion(&previous.input, input);
    let n = width * height;
    let (before, now) = (previous.input.planar(), input.planar());
    let last = previous.output.planar();
    let mut data = output.planar().to_vec();
    for y in 0..height {
        let Some(py) = y.checked_add_signed(-dy as isize).filter(|&py| py < height) else {
            continue;
        };
        for x in 0..width {
            let Some(px) = x.checked_add_signed(-dx as isize).filter(|&px| px < width) else {
                continue;
            };
            let (i, j) = (y * width + x, py * width + px);
            let change = (0..3)
                .map(|c| (now[c * n + i] - before[c * n + j]).abs())
                .sum::<f32>()
                / 3.0;
            let keep = stability * (-(change / CHANGE).powi(2)).exp();
            for c in 0..3 {
                let value = &mut data[c * n + i];
                *value += keep * (last[c * n + j] - *value);
            }
        }
    }
    Image::from_planar(input.width(), input.height(), data).expect("the input's size")
}

/// The shift `(dx, dy)` in pixels that carries `before` onto `after` (two frames of one
/// size): `after(x, y) ≈ before(x − dx, y − dy)`, the one that minimises the mean absolute
/// difference of their luminance where they overlap. Searched coarse to fine on a pyramid of
/// halved luminance images: ±[`SEARCH`] at the coarsest level (long side ≤ [`COARSEST`]), ±1
/// at each finer one.
pub fn motion(before: &Image, after: &Image) -> (i32, i32) {
    let mut levels = vec![Level::of(before, after)];
    while let Some(level) = (levels.last()).filter(|l| l.width.max(l.height) > COARSEST as usize) {
        let halved = level.halved();
        levels.push(halved);
    }
    let mut best = (0, 0);
    for (k, level) in levels.iter().rev().enumerate() {
        let (radius, centre) = match k {
            0 => (SEARCH, (0, 0)),
            _ => (1, (best.0 * 2, best.1 * 2)),
        };
        // The centre first, and only a strictly lower cost moves away from it: a still or
        // featureless frame stays put.
        let mut lowest = level.cost(centre);
        best = centre;
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                let shift = (centre.0 + dx, centre.1 + dy);
                let cost = level.cost(shift);
                if cost < lowest {
                    (lowest, best) = (cost, shift);
                }
            }
        }
    }
    best
}

/// Two frames' luminance at one level of the shift search's pyramid.
struct Level {
    width: usize,
    height: usize,
    before: Vec<f32>,
    after: Vec<f32>,
}

impl Level {
    fn of(before: &Image, after: &Image) -> Self {
        Self {
            width: after.width() as usize,
            height: after.height() as usize,
            before: luminance(before),
            after: luminance(after),
        }
    }

    /// Both frames at half the size (2 × 2 means; an odd last row or column is dropped).
    fn halved(&self) -> Self {
        let (width, height) = ((self.width / 2).max(1), (self.height / 2).max(1));
        let half = |values: &[f32]| {
            let at = |x: usize, y: usize| {
                values[y.min(self.height - 1) * self.width + x.min(self.width - 1)]
            };
            let mut out = Vec::with_capacity(width * height);
            for y in 0..height {
                for x in 0..width {
                    let (x2, y2) = (2 * x, 2 * y);
                    out.push(
                        (at(x2, y2) + at(x2 + 1, y2) + at(x2, y2 + 1) + at(x2 + 1, y2 + 1)) / 4.0,
                    );
                }
            }
            out
        };
        Self {
            width,
            height,
            before: half(&self.before),
            after: half(&self.after),
        }
    }

    /// Mean absolute difference of `after(x, y)` and `before(x − dx, y − dy)` where both
    /// exist; infinite when they overlap in under half the frame.
    fn cost(&self, (dx, dy): (i32, i32)) -> f32 {
        let (w, h) = (self.width as i32, self.height as i32);
        let (x0, x1) = (dx.max(0), (w + dx).min(w));
        let (y0, y1) = (dy.max(0), (h + dy).min(h));
        let area = (x1 - x0).max(0) * (y1 - y0).max(0);
        if 2 * area < w * h {
            return f32::INFINITY;
        }
        let mut sum = 0.0;
        for y in y0..y1 {
            let (row, from) = ((y * w) as usize, ((y - dy) * w) as usize);
            for x in x0..x1 {
                sum += (self.after[row + x as usize] - self.before[from + (x - dx) as usize]).abs();
            }
        }
        sum / area as f32
    }
}

/// Flicker of a painted clip: the mean absolute change between consecutive output frames
/// minus that between the input frames (RGB in `[0, 1]`, every pixel and channel; the
/// inputs at the outputs' size). The change a picture of the scene must show, less: what is
/// left is the painting's own change from frame to frame. 0 for fewer than two frames.
///
/// # Panics
/// If the clips differ in length or their frames in size.
pub fn flicker(inputs: &[Image], outputs: &[Image]) -> f64 {
    assert_eq!(inputs.len(), outputs.len(), "one output per input");
    let change = |frames: &[Image]| {
        let pairs = frames.windows(2);
        let count = pairs.len().max(1) as f64;
        pairs.map(|p| mean_difference(&p[0], &p[1])).sum::<f64>() / count
    };
    change(outputs) - change(inputs)
}

/// Mean absolute difference of two images of one size.
fn mean_difference(a: &Image, b: &Image) -> f64 {
    assert_eq!(
        (a.width(), a.height()),
        (b.width(), b.height()),
        "frames of one size"
    );
    let sum: f64 = (a.planar().iter().zip(b.planar()))
        .map(|(x, y)| f64::from((x - y).abs()))
        .sum();
    sum / a.planar().len() as f64
}

#[cfg(test)]
mod tests;
