//! An exponential moving average of a scale's iterates (crowsonkb/style-transfer-pytorch's
//! `avg_decay`), and scoring it without a gradient.

use burn::tensor::Tensor;

use crate::loss::Targets;
use crate::objective::{objective, objective_layers};
use crate::options::StyleOptions;
use crate::tiles::{Tiling, tiled_gradient};
use crate::vgg::Vgg16;

/// The bias-corrected moving average `Σ (1 − d) dᵏ⁻ⁱ xᵢ / (1 − dᵏ)` of the images added.
pub(super) struct Average {
    decay: f32,
    sum: Option<Tensor<4>>,
    weight: f32,
}

impl Average {
    /// An average with `decay`; `None` for 0 (no average kept).
    pub(super) fn new(decay: f32) -> Option<Self> {
        (decay > 0.0).then_some(Self {
            decay,
            sum: None,
            weight: 0.0,
        })
    }

    /// Adds an iterate.
    pub(super) fn add(&mut self, image: &Tensor<4>) {
        let new = image.clone().mul_scalar(1.0 - self.decay);
        self.sum = Some(match self.sum.take() {
            None => new,
            Some(sum) => sum.mul_scalar(self.decay) + new,
        });
        self.weight = self.decay * self.weight + (1.0 - self.decay);
    }

    /// The average so far, `None` before the first iterate.
    pub(super) fn value(&self) -> Option<Tensor<4>> {
        self.sum.clone().map(|sum| sum.div_scalar(self.weight))
    }
}

/// The weighted loss terms `[content, style, tv]` of `image`, whole or tile by tile as the
/// scale runs; the whole image's without autodiff. Tiled, the terms come from the tiled
/// gradient pass and its gradient is dropped (no value-only tiled pass exists; this runs
/// once a scale).
pub(super) fn terms(
    vgg: &Vgg16,
    image: &Tensor<4>,
    targets: &Targets,
    options: &StyleOptions,
    tiling: Option<Tiling>,
) -> [Tensor<1>; 3] {
    match tiling {
        None => {
            let layers = objective_layers(options);
            let o = objective(vgg, image.clone(), targets, options, &layers);
            [o.content, o.style, o.tv]
        }
        Some(tiling) => {
            let run = tiled_gradient(vgg, image, targets, options, tiling, |_, _, _| true);
            run.expect("runs to the end without a cancel").0
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;
    use crate::test_util::{cpu, read};

    fn image(v: f32) -> Tensor<4> {
        Tensor::from_data(TensorData::new(vec![v; 3], [1, 3, 1, 1]), &cpu())
    }

    /// Bias-corrected: one iterate is its own average; later ones weigh more, by `1 / d`
    /// each step.
    #[test]
    fn the_average_is_bias_corrected_and_favours_recent_iterates() {
        assert!(Average::new(0.0).is_none());
        let mut average = Average::new(0.5).unwrap();
        assert!(average.value().is_none());
        average.add(&image(1.0));
        assert!((read(average.value().unwrap())[0] - 1.0).abs() < 1e-6);
        average.add(&image(4.0));
        // (0.5 · 0.5 · 1 + 0.5 · 4) / (1 − 0.25) = 2.25 / 0.75 = 3.
        assert!((read(average.value().unwrap())[0] - 3.0).abs() < 1e-6);
    }
}
