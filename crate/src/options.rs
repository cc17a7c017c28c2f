//! Every setting of a stylization, with defaults taken from published implementations
//! (jcjohnson/neural-style, crowsonkb/style-transfer-pytorch; see [`StyleOptions`]).
//!
//! One options path serves every caller: [`StyleOptions`] deserializes (serde, camelCase keys,
//! unknown keys refused) from JSON in the CLI (`--options file.json` and the flags) and from a
//! plain JavaScript object in the browser, then [`StyleOptions::validate`] checks the values.
//! Keys left out take the defaults for the device the run is on
//! ([`StyleOptions::defaults_for`]: [`StyleOptions::default`] with that device kind's memory
//! budget), the one defaults object; `defaults.rs` also holds the named presets and the
//! limits, which the page, the widget and the JavaScript API read from here.

use serde::{Deserialize, Serialize};

use crate::image::Filter;
use crate::vgg::{Padding, Pooling, VggLayer};

mod defaults;
mod validate;

use crate::device::DeviceKind;
pub use defaults::{BALANCED, LIMITS, LOOKS, Limits, Look, PAINTERLY, PRESETS, Preset};
pub use validate::OptionsError;

/// Smallest output side: VGG halves the image four times before `relu5_1`.
pub const MIN_SIZE: u32 = 16;
/// Largest output side.
pub const MAX_SIZE: u32 = 4096;
/// Most iterations in one run.
pub const MAX_ITERATIONS: u32 = 100_000;
/// Smallest memory budget, in MiB: a tile and its halo must fit.
pub const MIN_MEMORY_BUDGET: u32 = 128;
/// Largest memory budget, in MiB.
pub const MAX_MEMORY_BUDGET: u32 = 1 << 20;

/// Largest `style_scale`.
pub const MAX_STYLE_SCALE: f32 = 4.0;
/// `scale_step` must be above this (the scales would crowd together) …
pub const MIN_SCALE_STEP: f32 = 1.05;
/// … and at most this.
pub const MAX_SCALE_STEP: f32 = 4.0;

/// Fewest iterations a scale gets: a run with fewer than this many per scale drops its
/// coarsest scales. A scale's first iterations score the carried picture and the start and
/// take a gradient step before L-BFGS has any curvature to work with.
pub const MIN_SCALE_ITERATIONS: u32 = 20;

/// How the output image starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// From the content photo (crowsonkb/style-transfer-pytorch).
    Content,
    /// From seeded noise (jcjohnson/neural-style's default).
    Noise,
    /// From the feed-forward network's painting of the photo (Ghiasi et al. 2017), made at
    /// the output size: a stylized picture at once, which the optimisation then refines.
    Fast,
}

/// Which optimiser updates the pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Limited-memory BFGS without line search, as jcjohnson/neural-style uses it; keeps
    /// [`StyleOptions::lbfgs_history`] correction pairs.
    Lbfgs,
    /// Adam on pixels in `[0, 1]` with step [`StyleOptions::learning_rate`], clamped to that
    /// range after every step.
    Adam,
}

/// Whose colours the result has (Gatys et al. 2017, "Controlling perceptual factors in neural
/// style transfer", §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colors {
    /// The painting's: the style as it is.
    Painting,
    /// The photo's, put back afterwards: the result's luminance with the photo's chroma
    /// (YUV), jcjohnson/neural-style's `-original_colors`.
    Photo,
    /// Luminance-only transfer: the photo's and the painting's luminance are stylized (the
    /// painting's mean and spread of luminance matched to the photo's first), and the
    /// photo's chroma is added to the result.
    Luminance,
    /// The painting recoloured to the photo's palette (mean and covariance of RGB) before its
    /// style is taken; the result keeps the painting's texture in the photo's colours.
    Match,
}

/// What the style loss compares of each style layer's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StyleLoss {
    /// Gram matrices, by mean squared difference (Gatys et al. 2016).
    Gram,
    /// The Wasserstein-2 distance between Gaussian fits of the features (mean and
    /// covariance), as crowsonkb/style-transfer-pytorch: the mean of each channel counts
    /// apart from its spread, and the covariance is matched as a shape rather than
    /// entrywise. Costs a few dozen `c × c` matrix products per layer and step.
    Wasserstein,
}

/// How the style layers' weights in [`StyleOptions::style_layers`] are scaled by depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StyleLayerWeights {
    /// As given.
    Equal,
    /// Shallowest to deepest in the ratio 4ⁿ⁻¹ : … : 16 : 4 : 1 (256:64:16:4:1 for the five
    /// default layers, crowsonkb/style-transfer-pytorch), scaled to average 1 so that the
    /// style weight keeps its meaning: fine strokes and colour before large forms.
    CoarseToFine,
}

/// The settings of one stylization.
///
/// `StyleOptions::default()` follows jcjohnson/neural-style (style weight 100, total
/// variation 1e-3, content at `relu4_2`, style at `relu1_1` … `relu5_1` equally weighted,
/// Gram matrices divided by `c·h·w`, L-BFGS) with crowsonkb's automatic coarse-to-fine
/// schedule (from 128 px upward in steps of √2), starting from the feed-forward network's
/// picture of the photo alone ([`Init::Fast`], [`fast_mix`](Self::fast_mix) 1: a painting at
/// once, which no run ends below; README, "Short runs"). One departure: content weight
/// 20 instead of 5. Starting from the photo and going coarse to
/// fine, 5 let the style wash out the buildings of the Tübingen test photo at 256 px; 20
/// keeps them while the whole picture still takes the painting's strokes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StyleOptions {
    /// Longer side of the output, in pixels. Default 384 ([`BALANCED`]).
    pub size: u32,
    /// Iterations over all scales together. Default 300 ([`BALANCED`]). With 0 the result is the starting
    /// image at `size`: with [`Init::Fast`], the feed-forward picture alone (Quick mode).
    pub iterations: u32,
    /// Weight of the content loss. Default 5 ([`PAINTERLY`]; 20 is the [`LOOKS`]' `faithful`).
    pub content_weight: f32,
    /// Weight of the style loss. Default 100. (Each painting's share in a blend is its
    /// [`StyleImage::blend`](crate::StyleImage::blend), a different concept.)
    pub style_weight: f32,
    /// Weight of the total-variation (smoothness) loss. Default 1e-3.
    pub tv_weight: f32,
    /// Style images are resized to `style_scale × ` the current output size. Default 1.
    /// The feed-forward network's style predictor sees them at the output size's scale too
    /// ([`style_input_side`](crate::fast::style_input_side)), so it scales Quick's strokes.
    pub style_scale: f32,
    /// Coarse-to-fine starts at this size; `size` at or below it runs at one scale. Default 128.
    pub min_scale: u32,
    /// Ratio between successive scales. Default √2.
    pub scale_step: f32,
    /// Starting image, made at the output size. Default [`Init::Fast`] (needs
    /// [`Stylizer::with_fast`](crate::Stylizer::with_fast)).
    pub init: Init,
    /// How much of the paintings' style the feed-forward picture takes, from 0 (the photo's
    /// own style vector) to 1 (the paintings'): the two style vectors are interpolated, as
    /// Ghiasi et al. do. Default 1.
    pub fast_strength: f32,
    /// How much of the feed-forward picture the optimisation starts from, the rest being the
    /// photo (a pixel mix, 0–1). The picture alone makes the first frame as painted as Quick
    /// mode's, and a run of any length keeps at least that (a mix with the photo is less
    /// painted and softer, which short runs cannot make up for); judged by the float VGG16
    /// at 50–300 iterations, the two end level (README, "Short runs"). Quick mode (0
    /// iterations) returns the picture alone. Default 1.
    pub fast_mix: f32,
    /// Video: how much of the previous frame's painting each frame keeps where the scene did
    /// not change (0–1), after the camera's shift between the two frames is undone
    /// ([`FramePainter`](crate::FramePainter)); 0 paints every frame on its own. Steadies the
    /// strokes the network repaints on every frame (README, "Moving pictures"). Default 0.6.
    pub frame_stability: f32,
    /// Seed of the noise start; the same seed gives the same run. Default 0.
    pub seed: u64,
    /// Optimiser. Default [`Optimizer::Lbfgs`].
    pub optimizer: Optimizer,
    /// L-BFGS: correction pairs kept (memory: two images each). Default 10.
    pub lbfgs_history: u32,
    /// Adam: step size, in units of the `[0, 1]` pixel range. Default 0.02
    /// (crowsonkb/style-transfer-pytorch).
    pub learning_rate: f32,
    /// Decay of an exponential moving average of each scale's iterates, bias-corrected
    /// (crowsonkb/style-transfer-pytorch's `avg_decay`, 0.99 there with Adam): at the end of
    /// a scale the average is scored too and carried on when it scores lower than every
    /// iterate, smoothing the optimiser's noise. 0 (the default) keeps no average; below 1.
    pub average_decay: f32,
    /// Whose colours the result has. Default [`Colors::Painting`].
    pub colors: Colors,
    /// Layer whose activations the content loss compares. Default `relu4_2`.
    pub content_layer: VggLayer,
    /// Layers whose Gram matrices the style loss compares, each with its weight.
    pub style_layers: Vec<(VggLayer, f32)>,
    /// What the style loss compares. Default [`StyleLoss::Gram`].
    pub style_loss: StyleLoss,
    /// How the style layers' weights are scaled by depth ([`layer_weights`](Self::layer_weights)).
    /// Default [`StyleLayerWeights::Equal`].
    pub style_layer_weights: StyleLayerWeights,
    /// How VGG16's first convolution sees past the image's edge. Default
    /// [`Padding::Replicate`] (crowsonkb's): no mean-colour frame from the first layer, which
    /// the border test measured at the painterly look's balance with zeros (README, "Borders").
    pub padding: Padding,
    /// VGG16's pooling. Default [`Pooling::Max`].
    pub pooling: Pooling,
    /// How the paintings are resampled to each scale. Default [`Filter::Triangle`].
    pub style_filter: Filter,
    /// Attach the current image to every `preview_every`-th progress report; 0 never. Default 0.
    pub preview_every: u32,
    /// Memory, in MiB, that one pass of a network over the image may take. A scale whose
    /// whole VGG16 pass would need more runs tile by tile (the same result, bounded memory,
    /// 1.4× the time at 1024 px with the default, more for small budgets); a fast start that
    /// would need more is painted smaller and enlarged. L-BFGS keeps fewer correction pairs
    /// where [`lbfgs_history`](Self::lbfgs_history) pairs would take more (see
    /// [`lbfgs_pairs`](Self::lbfgs_pairs)); a few copies of the image come on top. Default
    /// the device kind's ([`DeviceKind::memory_budget`]: 1024 on the CPU, which
    /// [`StyleOptions::default`] takes, 768 on a GPU).
    pub memory_budget: u32,
}

impl Default for StyleOptions {
    fn default() -> Self {
        Self {
            size: BALANCED.size,
            iterations: BALANCED.iterations,
            content_weight: PAINTERLY.content_weight,
            style_weight: 100.0,
            tv_weight: 1e-3,
            style_scale: 1.0,
            min_scale: 128,
            scale_step: std::f32::consts::SQRT_2,
            init: Init::Fast,
            fast_strength: 1.0,
            fast_mix: 1.0,
            frame_stability: 0.6,
            seed: 0,
            optimizer: Optimizer::Lbfgs,
            lbfgs_history: 10,
            learning_rate: 0.02,
            average_decay: 0.0,
            colors: Colors::Painting,
            content_layer: VggLayer::Relu4_2,
            style_layers: [
                VggLayer::Relu1_1,
                VggLayer::Relu2_1,
                VggLayer::Relu3_1,
                VggLayer::Relu4_1,
                VggLayer::Relu5_1,
            ]
            .map(|l| (l, 1.0))
            .to_vec(),
            style_loss: StyleLoss::Gram,
            style_layer_weights: StyleLayerWeights::Equal,
            padding: Padding::Replicate,
            pooling: Pooling::Max,
            style_filter: Filter::Triangle,
            preview_every: 0,
            memory_budget: DeviceKind::Cpu.memory_budget(),
        }
    }
}

impl StyleOptions {
    /// The L-BFGS correction pairs kept for a `width × height` image:
    /// [`lbfgs_history`](Self::lbfgs_history), or as many as fit in the memory budget, two
    /// images each (at least one). 0 with Adam.
    pub fn lbfgs_pairs(&self, width: u32, height: u32) -> u32 {
        if self.optimizer != Optimizer::Lbfgs {
            return 0;
        }
        let pair = 2 * 3 * std::mem::size_of::<f32>() as u64 * u64::from(width) * u64::from(height);
        let fits = (self.memory_budget_bytes() / pair.max(1)).max(1);
        u64::from(self.lbfgs_history).min(fits) as u32
    }

    /// Each style layer's weight, in the order of [`style_layers`](Self::style_layers): its
    /// own, times [`style_layer_weights`](Self::style_layer_weights)'s factor for its depth
    /// among them.
    pub fn layer_weights(&self) -> Vec<f32> {
        let n = self.style_layers.len();
        let factors: Vec<f32> = match self.style_layer_weights {
            StyleLayerWeights::Equal => vec![1.0; n],
            StyleLayerWeights::CoarseToFine => {
                let depth = |i: usize| {
                    let layer = self.style_layers[i].0;
                    self.style_layers.iter().filter(|(l, _)| *l < layer).count()
                };
                let raw: Vec<f32> = (0..n)
                    .map(|i| 4f32.powi((n - 1 - depth(i)) as i32))
                    .collect();
                let mean = raw.iter().sum::<f32>() / n.max(1) as f32;
                raw.iter().map(|r| r / mean).collect()
            }
        };
        self.style_layers
            .iter()
            .zip(factors)
            .map(|(&(_, weight), factor)| weight * factor)
            .collect()
    }

    /// [`memory_budget`](Self::memory_budget) in bytes.
    pub fn memory_budget_bytes(&self) -> u64 {
        u64::from(self.memory_budget) << 20
    }

    /// The sizes (longer side) of the coarse-to-fine schedule, ending at `size` (a scale less
    /// than half a step, `√scale_step`, below `size` is left out). Options that
    /// [`validate`](Self::validate) refuses still give a finite list: a `scale_step` that does
    /// not grow (≤ 1, NaN) means one scale.
    pub fn scales(&self) -> Vec<u32> {
        let mut scales = Vec::new();
        let mut s = self.min_scale as f32;
        let grows = self.scale_step.is_finite() && self.scale_step > 1.0;
        while grows && (s.round() as u32) < self.size {
            scales.push(s.round() as u32);
            s *= self.scale_step;
        }
        // A scale within half a step of the output would repeat it (362 before 384).
        if let Some(&last) = scales.last()
            && (self.size as f32 / last as f32) < self.scale_step.sqrt()
        {
            scales.pop();
        }
        scales.push(self.size);
        // Every scale gets the iterations it needs: with fewer, drop the coarsest.
        let affordable = (self.iterations / MIN_SCALE_ITERATIONS).max(1) as usize;
        let keep = scales.len().min(affordable);
        scales.split_off(scales.len() - keep)
    }

    /// Iterations at each scale of [`scales`](Self::scales): an equal share, the remainder
    /// going to the finest scale.
    pub fn iterations_per_scale(&self) -> Vec<u32> {
        let n = self.scales().len() as u32;
        if n == 0 {
            return Vec::new();
        }
        let mut split = vec![self.iterations / n; n as usize];
        *split.last_mut().expect("at least one scale") += self.iterations % n;
        split
    }
}

#[cfg(test)]
mod tests;
