//! The three terms of the Gatys objective, in the normalisation of jcjohnson/neural-style,
//! the targets they compare with, and the weighted style term over the style layers: Gram
//! matrices (Gatys et al. 2016) or the Wasserstein-2 distance between the features' Gaussian
//! fits (mean and covariance, as crowsonkb/style-transfer-pytorch).

use burn::tensor::Tensor;

use crate::options::StyleLoss;

mod regions;
mod sqrt;

pub(crate) use regions::{Guide, Region, region_moments, region_shares, style_term};

use sqrt::{ITERATIONS, shift, sqrt_psd};

/// Gram matrix of a feature map, divided by the number of elements `c·h·w`.
///
/// # Shapes
/// `[1, c, h, w]` → `[c, c]`
pub fn gram(features: Tensor<4>) -> Tensor<2> {
    let [n, c, h, w] = features.dims();
    debug_assert_eq!(n, 1, "gram matrices are taken one image at a time");
    gram_share(features.reshape([c, h * w]), h * w)
}

/// The share of `[c, positions]` features in the Gram matrix of a map of `whole` positions:
/// `F·Fᵀ / (c · whole)`.
fn gram_share(features: Tensor<2>, whole: usize) -> Tensor<2> {
    let c = features.dims()[0];
    features
        .clone()
        .matmul(features.transpose())
        .div_scalar((c * whole) as f32)
}

/// Content loss: mean squared difference between feature maps.
///
/// # Shapes
/// two `[1, c, h, w]` → `[1]`
pub fn content_loss(features: Tensor<4>, target: Tensor<4>) -> Tensor<1> {
    (features - target).square().mean()
}

/// Style loss of one layer: mean squared difference between Gram matrices.
///
/// # Shapes
/// two `[c, c]` → `[1]`
pub fn style_loss(gram: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    (gram - target).square().mean()
}

/// Total variation: the sum of squared differences between neighbouring pixels, measured on
/// the 0–255 scale the network sees.
///
/// # Shapes
/// `[1, 3, h, w]` → `[1]`
pub fn tv_loss(image: Tensor<4>) -> Tensor<1> {
    let [_, _, h, w] = image.dims();
    let image = image.mul_scalar(255.0);
    let dy = image.clone().narrow(2, 1, h - 1) - image.clone().narrow(2, 0, h - 1);
    let dx = image.clone().narrow(3, 1, w - 1) - image.narrow(3, 0, w - 1);
    dy.square().sum() + dx.square().sum()
}

/// What the style loss reads of one layer's features `F` (`[c, n]` over `n` positions): the
/// Gram matrix `F·Fᵀ / (c·n)` and the mean `F·1 / n` (`[c, 1]`). Both are sums over
/// positions, so tiles add up to the whole image's and paintings blend by their shares.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    pub(crate) gram: Tensor<2>,
    pub(crate) mean: Tensor<2>,
}

impl Moments {
    /// The moments of a feature map.
    ///
    /// # Shapes
    /// `[1, c, h, w]` → `[c, c]` and `[c, 1]`
    pub(crate) fn of(features: Tensor<4>) -> Self {
        let [_, c, h, w] = features.dims();
        Self::share(features.reshape([c, h * w]), h * w)
    }

    /// The share of `[c, positions]` features in the moments of a map of `whole` positions.
    pub(crate) fn share(features: Tensor<2>, whole: usize) -> Self {
        let mean = features.clone().sum_dim(1).div_scalar(whole as f32);
        Self {
            gram: gram_share(features, whole),
            mean,
        }
    }

    /// `self × k`.
    pub(crate) fn scaled(self, k: f32) -> Self {
        Self {
            gram: self.gram.mul_scalar(k),
            mean: self.mean.mul_scalar(k),
        }
    }

    /// `self + other`.
    pub(crate) fn plus(self, other: Self) -> Self {
        Self {
            gram: self.gram + other.gram,
            mean: self.mean + other.mean,
        }
    }

    /// The covariance `F·Fᵀ / n − μ·μᵀ`, `[c, c]`.
    fn covariance(&self) -> Tensor<2> {
        let c = self.gram.dims()[0];
        self.gram.clone().mul_scalar(c as f32)
            - self.mean.clone().matmul(self.mean.clone().transpose())
    }
}

/// What one style layer's loss compares an image with, on the device without autodiff.
#[derive(Debug, Clone)]
pub(crate) enum StyleTarget {
    /// The Gram matrix (`StyleLoss::Gram`). (Both variants boxed: a tensor handle is large.)
    Gram(Box<Tensor<2>>),
    /// The Gaussian fit (`StyleLoss::Wasserstein`).
    Gaussian(Box<Gaussian>),
}

/// A Gaussian fit `N(μₜ, Σₜ)` of a layer's features, with what [`wasserstein_loss`] needs
/// of it every step.
#[derive(Debug, Clone)]
pub(crate) struct Gaussian {
    /// `μₜ`, `[c, 1]`.
    mean: Tensor<2>,
    /// `R = (Σₜ + δI)^½`.
    root: Tensor<2>,
    /// The shift of `R Σ R` ([`sqrt::shift`] of `R Σₜ R`), `[1, 1]`.
    shift: Tensor<2>,
    /// `2 tr (R Σₜ R + δ'I)^½ − tr Σₜ`: the loss's constant, so that it is 0 at the target.
    constant: Tensor<1>,
}

impl Gaussian {
    fn new(moments: Moments) -> Self {
        let covariance = moments.covariance();
        let (root, _) = sqrt_psd(covariance.clone(), shift(&covariance), ITERATIONS);
        let at_target = root.clone().matmul(covariance.clone()).matmul(root.clone());
        let shift = shift(&at_target);
        let (root_at_target, _) = sqrt_psd(at_target, shift.clone(), ITERATIONS);
        let constant = trace(root_at_target).mul_scalar(2.0) - trace(covariance);
        Self {
            mean: moments.mean,
            root,
            shift,
            constant,
        }
    }
}

impl StyleTarget {
    /// The target of a painting's (or a blend's) `moments` for `loss`.
    pub(crate) fn new(moments: Moments, loss: StyleLoss) -> Self {
        match loss {
            StyleLoss::Gram => Self::Gram(Box::new(moments.gram)),
            StyleLoss::Wasserstein => Self::Gaussian(Box::new(Gaussian::new(moments))),
        }
    }
}

/// The Wasserstein-2 style loss of one layer, divided by the channels `c` (crowsonkb's
/// normalisation) and scaled by [`WASSERSTEIN_SCALE`]: between the Gaussian fits
/// `N(μ, Σ)` of the image's features and `N(μₜ, Σₜ)` of the target's,
/// `‖μ − μₜ‖² + tr Σ + tr Σₜ − 2 tr (Σₜ^½ Σ Σₜ^½)^½`.
///
/// Both square roots are of the matrix plus a small shift ([`sqrt::shift`], 1e-4 of its
/// norm), and the constant is taken so that the loss is 0 at the target exactly.
/// The root of `A = R Σ R` comes from the Newton–Schulz iteration on the device without
/// autodiff, which also gives `A^-½`; `∂ tr A^½ / ∂A = ½ A^-½`, so the term enters the graph
/// as its value plus `⟨½ A^-½, A − A₀⟩` (zero, with that gradient). Backward passes never go
/// through the iteration.
fn wasserstein_loss(moments: Moments, target: &Gaussian) -> Tensor<1> {
    let c = target.mean.dims()[0];
    let sigma = moments.covariance();
    let a = target
        .root
        .clone()
        .matmul(sigma.clone())
        .matmul(target.root.clone());
    let fixed = a.clone().inner();
    // The target's shift, or the image's own where its covariance is far larger (a noise
    // start, the first steps), so that every eigenvalue still converges; the shift is held
    // constant for the gradient.
    let shift = target.shift.clone().max_pair(shift(&fixed));
    let (root, inverse_root) = sqrt_psd(fixed.clone(), shift, ITERATIONS);
    let trace_root = trace(root) + ((a - fixed) * inverse_root.mul_scalar(0.5)).sum();
    let means = (moments.mean - target.mean.clone()).square().sum();
    (means + trace(sigma) + target.constant.clone() - trace_root.mul_scalar(2.0))
        .mul_scalar(WASSERSTEIN_SCALE / c as f32)
}

/// Brings the Wasserstein loss to the Gram loss's scale, so that one style weight means a
/// similar balance with either. Measured with the `compare` tool (Tübingen and The Starry
/// Night, 256 px, 150 steps, content weight 20): unscaled, style weight 10 keeps the photo
/// at 0.23 of the painting's content distance, where the Gram loss at 100 keeps it at 0.25
/// (at 100 unscaled, 0.74: the painting's own layout comes through).
pub(crate) const WASSERSTEIN_SCALE: f32 = 0.1;

/// `tr m` of a square matrix, `[1]`.
fn trace(m: Tensor<2>) -> Tensor<1> {
    let (c, device) = (m.dims()[0], m.device());
    (m * Tensor::eye(c, &device)).sum()
}

/// One layer's style loss of an image's `moments` against `target`.
pub(crate) fn layer_loss(moments: Moments, target: &StyleTarget) -> Tensor<1> {
    match target {
        StyleTarget::Gram(gram) => style_loss(moments.gram, gram.as_ref().clone()),
        StyleTarget::Gaussian(target) => wasserstein_loss(moments, target),
    }
}

/// Targets of the objective at one scale, on the device without autodiff: the content
/// features, and the style targets of each region (one unguided region in a run without
/// masks, its targets the paintings' blend).
pub(crate) struct Targets {
    pub(crate) content: Tensor<4>,
    pub(crate) regions: Vec<Region>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{close, cpu, read};
    use burn::tensor::TensorData;

    #[test]
    fn gram_of_a_two_channel_map() {
        // Channels a = [1, 2, 3, 4], b = [0, 1, 0, -1] over a 2x2 map.
        let f = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 2., 3., 4., 0., 1., 0., -1.], [1, 2, 2, 2]),
            &cpu(),
        );
        // a·a = 30, a·b = -2, b·b = 2, divided by c·h·w = 8.
        let g = read(gram(f));
        let expected = [30.0 / 8.0, -2.0 / 8.0, -2.0 / 8.0, 2.0 / 8.0];
        for (got, want) in g.iter().zip(expected) {
            close(*got, want, 1e-6);
        }
    }

    #[test]
    fn content_and_style_losses_are_mean_squared_errors() {
        let d = cpu();
        let a = Tensor::<4>::from_data(TensorData::new(vec![1.0f32, 2., 3., 4.], [1, 1, 2, 2]), &d);
        let b = Tensor::<4>::from_data(TensorData::new(vec![0.0f32, 2., 5., 4.], [1, 1, 2, 2]), &d);
        // Differences 1, 0, -2, 0: mean of squares 5/4.
        close(read(content_loss(a, b))[0], 1.25, 1e-6);
        let g = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0., 0., 1.], [2, 2]), &d);
        let t = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0., 3., 1.], [2, 2]), &d);
        // Differences 1, 0, -3, 0: mean of squares 10/4.
        close(read(style_loss(g, t))[0], 2.5, 1e-6);
    }

    /// `[1, c, h, w]` features of seeded noise around `offset`.
    fn features(c: usize, seed: u64, offset: f32) -> Tensor<4> {
        let mut random = crate::random::SplitMix64::new(seed);
        let values: Vec<f32> = (0..c * 36).map(|_| random.uniform() + offset).collect();
        Tensor::from_data(TensorData::new(values, [1, c, 6, 6]), &cpu())
    }

    /// The Wasserstein loss is 0 at its target, positive elsewhere, and its gradient (the
    /// square root's taken from the Newton–Schulz iteration, not through it) matches central
    /// differences of its value along random directions. On the loss alone the function is
    /// smooth (no ReLU or pooling kinks), so the two agree to 1e-3; what is left is f32
    /// rounding of a loss of about 4, divided by the step.
    #[test]
    fn wasserstein_loss_is_zero_at_the_target_and_its_gradient_is_its_slope() {
        let c = 12;
        let painting = || features(c, 1, 0.3).mul_scalar(3.0);
        let target = StyleTarget::new(Moments::of(painting()), StyleLoss::Wasserstein);
        let at_target = read(layer_loss(Moments::of(painting()), &target))[0];
        let x = features(c, 2, 0.0);
        let away = read(layer_loss(Moments::of(x.clone()), &target))[0];
        println!("loss at the target {at_target:e}, away {away:e}");
        assert!(at_target.abs() < 1e-4 * away && away > 0.0);

        let leaf = x.clone().autodiff().require_grad();
        let gradient = leaf
            .grad(&layer_loss(Moments::of(leaf.clone()), &target).backward())
            .unwrap();
        for seed in [3, 4, 5] {
            let v = features(c, seed, -0.5);
            let analytic = f64::from(read((gradient.clone() * v.clone()).sum())[0]);
            let f = |t: f32| {
                let moved = x.clone() + v.clone().mul_scalar(t);
                f64::from(read(layer_loss(Moments::of(moved), &target))[0])
            };
            // Central differences at t and t/2, their t² error eliminated (Richardson).
            let difference = |t: f32| (f(t) - f(-t)) / (2.0 * f64::from(t));
            let numeric = (4.0 * difference(0.05) - difference(0.1)) / 3.0;
            println!("directional derivative: autodiff {analytic:.6e}, differences {numeric:.6e}");
            assert!((analytic - numeric).abs() <= 1e-3 * analytic.abs());
        }
    }

    #[test]
    fn total_variation_counts_both_directions_on_the_255_scale() {
        // One channel varies: [[0, 1], [0, 0]] / 255. Others constant.
        let mut v = vec![0.5f32; 12];
        v[0] = 0.0;
        v[1] = 1.0 / 255.0;
        v[2] = 0.0;
        v[3] = 0.0;
        let image = Tensor::<4>::from_data(TensorData::new(v, [1, 3, 2, 2]), &cpu());
        // Horizontal: (1-0)^2 on row 0, 0 on row 1. Vertical: 0 on column 0, (0-1)^2 on column 1.
        close(read(tv_loss(image))[0], 2.0, 1e-4);
    }
}
