//! The Gatys et al. (2016) optimisation: coarse-to-fine, several styles, progress and
//! cancellation, with every device read awaited so the same code runs in the browser.

use std::ops::ControlFlow;

use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, ExecutionError, Tensor};

use crate::color::transfer_luminance;
use crate::image::Image;
use crate::loss::{content_loss, gram, style_loss, tv_loss};
use crate::optim::PixelOptimizer;
use crate::options::{Init, OptionsError, StyleOptions};
use crate::profile::{Phases, Stopwatch};
use crate::vgg::{Vgg16, VggLayer};
use crate::weights::VggWeights;

/// A style image and its share in the blend.
#[derive(Debug, Clone, Copy)]
pub struct StyleImage<'a> {
    /// The painting.
    pub image: &'a Image,
    /// Blend weight (≥ 0): this painting's share of the style; the blend weights are
    /// normalised to sum to 1. (The style *loss* weight is [`StyleOptions::style_weight`].)
    pub blend: f32,
}

/// The weighted loss terms of one iteration (`total` is their sum).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Losses {
    /// Content weight × content loss.
    pub content: f32,
    /// Style weight × style loss, over all style layers.
    pub style: f32,
    /// Total-variation weight × total variation.
    pub tv: f32,
    /// The objective.
    pub total: f32,
}

/// What the engine reports after each iteration.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Iterations done, counting all scales, from 1.
    pub iteration: u32,
    /// Iterations in the whole run.
    pub total: u32,
    /// Index of the current scale, from 0.
    pub scale: usize,
    /// Number of scales.
    pub scales: usize,
    /// Width of the image at this scale.
    pub width: u32,
    /// Height of the image at this scale.
    pub height: u32,
    /// Loss terms of the image this iteration started from.
    pub losses: Losses,
    /// The current image, every [`StyleOptions::preview_every`] iterations.
    pub image: Option<Image>,
    /// Where this iteration's time went.
    pub phases: Phases,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Stylized {
    /// The stylized image, at [`StyleOptions::size`].
    pub image: Image,
    /// Loss terms of the last iteration.
    pub losses: Losses,
    /// Iterations run.
    pub iterations: u32,
}

/// Why a run did not produce an image.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StylizeError {
    /// An option is out of range.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// No style image, or blend weights that do not add up to anything.
    #[error("{0}")]
    Styles(String),
    /// The content image is too thin for the network at this size.
    #[error(
        "the content image is too narrow: at size {size} its shorter side would be under {min} pixels"
    )]
    TooNarrow {
        /// Requested output size.
        size: u32,
        /// Smallest side the network needs.
        min: u32,
    },
    /// The device (GPU or CPU backend) failed, for example a lost WebGPU device.
    #[error("the compute device failed: {0}")]
    Device(String),
    /// The loss stopped being a finite number.
    #[error(
        "the optimisation diverged at iteration {0} (the loss is not a finite number); try a lower style weight or the Adam optimiser"
    )]
    Diverged(u32),
    /// The progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl From<ExecutionError> for StylizeError {
    /// Keeps the chain of causes on one line and drops the backtrace.
    fn from(e: ExecutionError) -> Self {
        let text = e.to_string();
        let causes = text.split("Backtrace:").next().unwrap_or_default();
        Self::Device(causes.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// Targets of the objective at one scale, on the device without autodiff.
struct Targets {
    content: Tensor<4>,
    grams: Vec<Tensor<2>>,
}

/// Symbolic loss terms of one image (on the autodiff device).
struct Objective {
    content: Tensor<1>,
    style: Tensor<1>,
    tv: Tensor<1>,
}

/// VGG16 on one device, ready to stylize any number of images.
#[derive(Debug, Clone)]
pub struct Stylizer {
    vgg: Vgg16,
    device: Device,
}

impl Stylizer {
    /// Uploads the network to `device` (for example `Device::flex()` or a wgpu device).
    pub fn new(weights: &VggWeights, device: &Device) -> Self {
        let device = device.clone().without_autodiff();
        Self {
            vgg: Vgg16::new(weights, &device),
            device,
        }
    }

    /// The device this stylizer runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The network.
    pub fn vgg(&self) -> &Vgg16 {
        &self.vgg
    }

    /// Optimises an image whose VGG features match `content` and whose Gram matrices match
    /// the blend of `styles`.
    ///
    /// `on_progress` runs after every iteration; returning [`ControlFlow::Break`] stops the
    /// run with [`StylizeError::Cancelled`] before the next iteration starts.
    pub async fn stylize(
        &self,
        content: &Image,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
        mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Stylized, StylizeError> {
        options.validate()?;
        check_styles(styles)?;
        let layers = objective_layers(options);
        let min_side = layers.iter().map(|l| l.downsampling()).max().unwrap_or(1) as u32;
        let (scales, iterations) = self.schedule(content, options, min_side)?;
        let total: u32 = iterations.iter().sum();

        let mut done = 0;
        let mut losses = Losses::default();
        // The result of the previous scale, with the content photo at that scale.
        let mut last: Option<(Tensor<4>, Image)> = None;
        for (scale, (&side, &count)) in scales.iter().zip(&iterations).enumerate() {
            let (width, height) = content.size_for_long_side(side);
            let content_here = content.resize(width, height);
            let targets = self.targets(&content_here, styles, options, side, min_side);
            let mut image = match last.take() {
                None => initial_image(&content_here, options).to_tensor(&self.device),
                Some((previous, _)) => interpolate(
                    previous,
                    InterpolateOptions::new(InterpolateMode::Bilinear)
                        .with_output_size([height as usize, width as usize]),
                ),
            };
            let mut optimizer = PixelOptimizer::new(options);
            for _ in 0..count {
                done += 1;
                let mut clock = Stopwatch::start();
                let leaf = image.clone().autodiff().require_grad();
                let objective = self.objective(leaf.clone(), &targets, options, &layers);
                let sum =
                    objective.content.clone() + objective.style.clone() + objective.tv.clone();
                let gradients = sum.backward();
                let gradient = leaf
                    .grad(&gradients)
                    .expect("the image leaf requires a gradient");
                let network = clock.lap();
                let mut scalars = vec![
                    objective.content.inner(),
                    objective.style.inner(),
                    objective.tv.inner(),
                ];
                scalars.extend(optimizer.scalars(&image, &gradient));
                let values = Tensor::cat(scalars, 0)
                    .into_data_async()
                    .await?
                    .try_into_vec::<f32>()
                    .expect("losses are f32");
                let read = clock.lap();
                losses = Losses {
                    content: values[0],
                    style: values[1],
                    tv: values[2],
                    total: values[0] + values[1] + values[2],
                };
                if !losses.total.is_finite() {
                    return Err(StylizeError::Diverged(done));
                }
                image = optimizer.step(image, gradient, losses.total, &values[3..]);
                let stepped = clock.lap();
                let preview = options.preview_every > 0
                    && (done % options.preview_every == 0 || done == total);
                let preview = match preview {
                    true => Some(self.render(image.clone(), &content_here, options).await?),
                    false => None,
                };
                let phases = Phases {
                    network,
                    read,
                    optimizer: stepped,
                    preview: clock.lap(),
                };
                let progress = Progress {
                    iteration: done,
                    total,
                    scale,
                    scales: scales.len(),
                    width,
                    height,
                    losses,
                    image: preview,
                    phases,
                };
                if on_progress(progress).is_break() {
                    return Err(StylizeError::Cancelled);
                }
            }
            last = Some((optimizer.finish(image), content_here));
        }
        // The schedule always ends at `options.size`, so the last scale is the output's.
        let (image, content_here) = last.expect("at least one scale");
        let image = self.render(image, &content_here, options).await?;
        Ok(Stylized {
            image,
            losses,
            iterations: done,
        })
    }

    /// Scales whose shorter side the network can take, and the iterations of each.
    fn schedule(
        &self,
        content: &Image,
        options: &StyleOptions,
        min_side: u32,
    ) -> Result<(Vec<u32>, Vec<u32>), StylizeError> {
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
        let scales = options.scales();
        let iterations = options.iterations_per_scale();
        // Fold the iterations of scales too small for this aspect ratio into the next one.
        let mut kept: Vec<(u32, u32)> = Vec::new();
        let mut carried = 0;
        for (side, count) in scales.into_iter().zip(iterations) {
            if fits(side) {
                kept.push((side, count + carried));
                carried = 0;
            } else {
                carried += count;
            }
        }
        Ok(kept.into_iter().unzip())
    }

    /// Content features and blended style Gram matrices at one scale.
    fn targets(
        &self,
        content: &Image,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
        side: u32,
        min_side: u32,
    ) -> Targets {
        let content_features = self
            .vgg
            .features(content.to_tensor(&self.device), &[options.content_layer])
            .remove(0);
        let style_layers: Vec<VggLayer> = options.style_layers.iter().map(|l| l.0).collect();
        let total_weight: f32 = styles.iter().map(|s| s.blend).sum();
        let mut grams: Vec<Option<Tensor<2>>> = vec![None; style_layers.len()];
        for style in styles.iter().filter(|s| s.blend > 0.0) {
            let image = style_at_scale(style.image, side, options.style_scale, min_side);
            let features = self
                .vgg
                .features(image.to_tensor(&self.device), &style_layers);
            let share = style.blend / total_weight;
            for (blend, f) in grams.iter_mut().zip(features) {
                let g = gram(f).mul_scalar(share);
                *blend = Some(match blend.take() {
                    None => g,
                    Some(sum) => sum + g,
                });
            }
        }
        Targets {
            content: content_features,
            grams: grams
                .into_iter()
                .map(|g| g.expect("at least one style has a positive weight"))
                .collect(),
        }
    }

    fn objective(
        &self,
        image: Tensor<4>,
        targets: &Targets,
        options: &StyleOptions,
        layers: &[VggLayer],
    ) -> Objective {
        let mut features = self.vgg.features(image.clone(), layers).into_iter();
        let content = content_loss(
            features.next().expect("content layer first"),
            targets.content.clone(),
        )
        .mul_scalar(options.content_weight);
        let style = features
            .zip(&options.style_layers)
            .zip(&targets.grams)
            .map(|((f, &(_, weight)), target)| {
                style_loss(gram(f), target.clone()).mul_scalar(weight)
            })
            .reduce(|a, b| a + b)
            .expect("at least one style layer")
            .mul_scalar(options.style_weight);
        let tv = tv_loss(image).mul_scalar(options.tv_weight);
        Objective { content, style, tv }
    }

    async fn render(
        &self,
        image: Tensor<4>,
        content: &Image,
        options: &StyleOptions,
    ) -> Result<Image, StylizeError> {
        let image = Image::from_tensor(image).await?;
        Ok(match options.preserve_colors {
            true => transfer_luminance(&image, content),
            false => image,
        })
    }
}

/// The content layer first, then the style layers.
fn objective_layers(options: &StyleOptions) -> Vec<VggLayer> {
    std::iter::once(options.content_layer)
        .chain(options.style_layers.iter().map(|l| l.0))
        .collect()
}

fn check_styles(styles: &[StyleImage<'_>]) -> Result<(), StylizeError> {
    if styles.is_empty() {
        return Err(StylizeError::Styles("no style image given".into()));
    }
    if let Some(bad) = styles
        .iter()
        .find(|s| !(s.blend.is_finite() && s.blend >= 0.0))
    {
        return Err(StylizeError::Styles(format!(
            "style blend weights must be numbers ≥ 0, got {}",
            bad.blend
        )));
    }
    if styles.iter().all(|s| s.blend == 0.0) {
        return Err(StylizeError::Styles(
            "at least one style blend weight must be above 0".into(),
        ));
    }
    Ok(())
}

/// The style image resized to `style_scale × side`, enlarged if needed so its shorter side
/// reaches `min_side`.
fn style_at_scale(style: &Image, side: u32, style_scale: f32, min_side: u32) -> Image {
    let long = ((side as f32 * style_scale).round() as u32).max(min_side);
    let (w, h) = style.size_for_long_side(long);
    let grow = (min_side as f32 / w.min(h) as f32).max(1.0);
    let (w, h) = style.size_for_long_side((long as f32 * grow).ceil() as u32);
    style.resize(w.max(min_side), h.max(min_side))
}

/// The starting image: the content photo, or seeded Gaussian noise around mid-grey.
fn initial_image(content: &Image, options: &StyleOptions) -> Image {
    match options.init {
        Init::Content => content.clone(),
        Init::Noise => {
            let mut rng = SplitMix64(options.seed);
            let values = (0..content.planar().len())
                .map(|_| (0.5 + 0.15 * rng.gaussian()).clamp(0.0, 1.0))
                .collect();
            Image::from_planar(content.width(), content.height(), values)
                .expect("same size as the content")
        }
    }
}

/// A small, portable PRNG so that a seed gives the same start on every backend.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `(0, 1]`.
    fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 1.0) / (1u64 << 24) as f32
    }

    /// Standard normal (Box–Muller).
    fn gaussian(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{cpu, read};

    fn stylizer() -> Stylizer {
        // Read at run time: a path compiled in would follow the build cache to another clone.
        let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo");
        let path = std::path::Path::new(&crate_dir).join("../models/vgg16-int8.safetensors");
        let bytes = std::fs::read(path).expect("the committed weights");
        Stylizer::new(&VggWeights::from_int8_safetensors(&bytes).unwrap(), &cpu())
    }

    fn noise(width: u32, height: u32, seed: u64) -> Image {
        let options = StyleOptions {
            init: Init::Noise,
            seed,
            ..Default::default()
        };
        let blank = Image::from_planar(width, height, vec![0.0; (3 * width * height) as usize]);
        initial_image(&blank.unwrap(), &options)
    }

    /// The autodiff gradient of the whole objective against finite differences along random
    /// directions v. The odd part of f(x + tv), (f(x + tv) − f(x − tv)) / 2 = a·t + b·t³ + …,
    /// is fitted by least squares at t = ε … 6ε: a is the directional derivative, freed of the
    /// cubic term that biases a plain central difference, and averaged over several steps
    /// against the f32 rounding noise of a loss of about 3e6. What remains is about 1 %; a
    /// real gradient bug (a dropped term, a missing factor, a wrong sign) is off by far more.
    #[test]
    fn gradient_matches_finite_differences() {
        let stylizer = stylizer();
        let device = stylizer.device().clone();
        let options = StyleOptions {
            size: 24,
            ..Default::default()
        };
        // Targets taken from images near x keep the loss small next to its slope.
        let (content, style) = (noise(24, 24, 1), noise(24, 24, 1));
        let layers = objective_layers(&options);
        let styles = [StyleImage {
            image: &style,
            blend: 1.0,
        }];
        let targets = stylizer.targets(&content, &styles, &options, 24, 16);
        let objective = |x: Tensor<4>| {
            let o = stylizer.objective(x, &targets, &options, &layers);
            o.content + o.style + o.tv
        };
        let x = content.to_tensor(&device).mul_scalar(0.8)
            + noise(24, 24, 3).to_tensor(&device).mul_scalar(0.2);
        let leaf = x.clone().autodiff().require_grad();
        let gradient = leaf.grad(&objective(leaf.clone()).backward()).unwrap();
        let epsilon = 5e-4f32;
        for seed in [4, 5, 6] {
            let v = noise(24, 24, seed).to_tensor(&device).sub_scalar(0.5);
            let analytic = f64::from(read((gradient.clone() * v.clone()).sum())[0]);
            let f = |t: f32| f64::from(read(objective(x.clone() + v.clone().mul_scalar(t)))[0]);
            // Normal equations of odd(t) = a·t + b·t³.
            let (mut s2, mut s4, mut s6, mut st, mut st3) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for k in 1..=6 {
                let t = k as f32 * epsilon;
                let odd = (f(t) - f(-t)) / 2.0;
                let t = f64::from(t);
                (s2, s4, s6) = (s2 + t * t, s4 + t.powi(4), s6 + t.powi(6));
                (st, st3) = (st + odd * t, st3 + odd * t.powi(3));
            }
            let numeric = (st * s6 - st3 * s4) / (s2 * s6 - s4 * s4);
            println!(
                "directional derivative: autodiff {analytic:.6e}, finite differences {numeric:.6e}"
            );
            assert!(
                (analytic - numeric).abs() <= 0.025 * analytic.abs(),
                "autodiff {analytic} vs finite differences {numeric}"
            );
        }
    }
}
