//! The three terms of the Gatys objective, in the normalisation of jcjohnson/neural-style,
//! the targets they compare with, and the weighted style term over the style layers.

use burn::tensor::{Device, Tensor};

use crate::options::StyleOptions;

/// Gram matrix of a feature map, divided by the number of elements `c·h·w`.
///
/// # Shapes
/// `[1, c, h, w]` → `[c, c]`
pub fn gram(features: Tensor<4>) -> Tensor<2> {
    let [n, c, h, w] = features.dims();
    debug_assert_eq!(n, 1, "gram matrices are taken one image at a time");
    let f: Tensor<2> = features.reshape([c, h * w]);
    f.clone()
        .matmul(f.transpose())
        .div_scalar((c * h * w) as f32)
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

/// Targets of the objective at one scale, on the device without autodiff.
pub(crate) struct Targets {
    pub(crate) content: Tensor<4>,
    pub(crate) grams: Vec<Tensor<2>>,
}

/// The weighted style loss of an image's Gram matrices (one per style layer, in order)
/// against the targets'; 0 on `device` with no style layer (valid when the style weight is 0).
pub(crate) fn style_term(
    grams: impl IntoIterator<Item = Tensor<2>>,
    targets: &[Tensor<2>],
    options: &StyleOptions,
    device: &Device,
) -> Tensor<1> {
    grams
        .into_iter()
        .zip(&options.style_layers)
        .zip(targets)
        .map(|((g, &(_, weight)), target)| style_loss(g, target.clone()).mul_scalar(weight))
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| Tensor::zeros([1], device))
        .mul_scalar(options.style_weight)
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
