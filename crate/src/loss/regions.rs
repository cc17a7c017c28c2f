//! The style term over regions (Gatys et al. 2017, spatial control): each painting matched
//! where its guide puts it.
//!
//! A guide is a painting's share of every pixel ([`crate::style::Shares`]), brought to each
//! style layer's resolution by averaging over the layer's downsampling blocks (the grid of
//! VGG's poolings). A region's moments at a layer weight each position's features by the
//! guide there and divide by the guide's mass `m = Σ g`: `G = Σ g·f·fᵀ / (c·m)`,
//! `μ = Σ g·f / m` (Gatys et al. multiply the features by the guide, which weights by `g²`;
//! weighting by `g` makes shares that sum to 1 at a pixel split its features between the
//! regions, so soft edges blend). A region's loss is weighted by its part of the map `m / n`:
//! then every position is pulled as hard as in an unguided run, whatever the size of its
//! region, and a guide of ones is the unguided loss.

use burn::tensor::{Device, Tensor, TensorData};

use super::{Moments, StyleTarget, layer_loss};
use crate::options::StyleOptions;
use crate::vgg::VggLayer;

/// A region's guide at one style layer.
#[derive(Debug, Clone)]
struct LayerGuide {
    /// The share at each position of the layer's map, `[1, 1, h, w]`.
    map: Tensor<4>,
    /// `Σ` of the map: the region's weight in positions.
    mass: f32,
    /// Positions `h · w` of the map.
    positions: usize,
}

/// A painting's share of every pixel, at each style layer's resolution.
#[derive(Debug, Clone)]
pub(crate) struct Guide {
    layers: Vec<LayerGuide>,
}

impl Guide {
    /// The guide of a `[width, height]` share (row by row) for `layers`, on `device`.
    pub(crate) fn new(
        share: &[f32],
        [width, height]: [usize; 2],
        layers: &[VggLayer],
        device: &Device,
    ) -> Self {
        let layers = (layers.iter())
            .map(|layer| {
                let d = layer.downsampling();
                let pooled = average_blocks(share, [width, height], d);
                let [w, h] = [width / d, height / d];
                LayerGuide {
                    mass: pooled.iter().sum(),
                    map: Tensor::from_data(TensorData::new(pooled, [1, 1, h, w]), device),
                    positions: w * h,
                }
            })
            .collect();
        Self { layers }
    }
}

/// The means of `d × d` blocks of a `[width, height]` plane (row by row), the rows and
/// columns past the last whole block dropped, as VGG's poolings drop them.
fn average_blocks(plane: &[f32], [width, height]: [usize; 2], d: usize) -> Vec<f32> {
    let [w, h] = [width / d, height / d];
    let mut out = vec![0.0f32; w * h];
    for y in 0..h * d {
        for x in 0..w * d {
            out[(y / d) * w + x / d] += plane[y * width + x];
        }
    }
    let area = (d * d) as f32;
    out.iter_mut().for_each(|v| *v /= area);
    out
}

/// One painting's part of the style term: where it goes (`None`: everywhere, the unguided
/// run) and its targets, one per style layer.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    pub(crate) guide: Option<Guide>,
    pub(crate) targets: Vec<StyleTarget>,
}

impl Region {
    /// The whole picture, with no targets: for measuring a painting's moments.
    pub(crate) fn everywhere() -> Self {
        Self {
            guide: None,
            targets: Vec::new(),
        }
    }

    /// The weight of the region's loss at a style layer: its part of the map (1 unguided).
    fn part(&self, layer: usize) -> f32 {
        self.guide.as_ref().map_or(1.0, |g| {
            let g = &g.layers[layer];
            g.mass / g.positions as f32
        })
    }
}

/// Most values of regions' weighted features in one product (64 MB of f32).
const MAX_BATCH: usize = 1 << 24;

/// Each region's share of the moments of `features` (`[c, positions]`) at the rows and
/// columns `owned` of style layer `layer`'s whole map of `whole` positions; `None` where a
/// region's guide has no weight at that layer. The guided regions' weighted Gram matrices are
/// one product (`[r·c, positions] × [positions, c]`) where their weighted features fit
/// [`MAX_BATCH`] (else in groups): on a GPU every kernel dispatched costs.
pub(crate) fn region_shares(
    regions: &[Region],
    layer: usize,
    features: Tensor<2>,
    [rows, columns]: [(usize, usize); 2],
    whole: usize,
) -> Vec<Option<Moments>> {
    let mut out: Vec<Option<Moments>> = vec![None; regions.len()];
    let mut guided = Vec::new();
    for (i, region) in regions.iter().enumerate() {
        match &region.guide {
            None => out[i] = Some(Moments::share(features.clone(), whole)),
            Some(guide) if guide.layers[layer].mass > 0.0 => {
                let guide = &guide.layers[layer];
                let weights = (guide.map.clone())
                    .narrow(2, rows.0, rows.1 - rows.0)
                    .narrow(3, columns.0, columns.1 - columns.0)
                    .reshape([1, (rows.1 - rows.0) * (columns.1 - columns.0)]);
                guided.push((i, weights, guide.mass));
            }
            Some(_) => {}
        }
    }
    if guided.is_empty() {
        return out;
    }
    // In groups whose weighted features stay within MAX_BATCH values (or one region's, when
    // a layer's map alone is larger): the product's tensor is kept for the backward pass.
    let [c, k] = features.dims();
    let group = (MAX_BATCH / (c * k)).max(1);
    for chunk in guided.chunks(group) {
        let (r, device) = (chunk.len(), features.device());
        let masses: Vec<f32> = chunk.iter().map(|g| g.2).collect();
        let masses = Tensor::<3>::from_data(TensorData::new(masses, [r, 1, 1]), &device);
        let weights = Tensor::cat(chunk.iter().map(|g| g.1.clone()).collect(), 0);
        // [1, c, k] × [r, 1, k]: each region's weights on every channel.
        let weighted = features.clone().unsqueeze_dim::<3>(0) * weights.unsqueeze_dim::<3>(1);
        let grams = (weighted.clone().reshape([r * c, k]))
            .matmul(features.clone().transpose())
            .reshape([r, c, c])
            / masses.clone().mul_scalar(c as f32);
        let means = weighted.sum_dim(2) / masses;
        for (j, (i, ..)) in chunk.iter().enumerate() {
            out[*i] = Some(Moments {
                gram: grams.clone().narrow(0, j, 1).reshape([c, c]),
                mean: means.clone().narrow(0, j, 1).reshape([c, 1]),
            });
        }
    }
    out
}

/// Each region's moments of a style layer's whole feature map (`[1, c, h, w]`).
pub(crate) fn region_moments(
    regions: &[Region],
    layer: usize,
    features: Tensor<4>,
) -> Vec<Option<Moments>> {
    let [_, c, h, w] = features.dims();
    let features = features.reshape([c, h * w]);
    region_shares(regions, layer, features, [(0, h), (0, w)], h * w)
}

/// The weighted style loss of an image's moments (per region, one per style layer in order;
/// `None` where the region has no weight) against the regions' targets; 0 on `device` with no
/// style layer (valid when the style weight is 0).
pub(crate) fn style_term(
    moments: impl IntoIterator<Item = Vec<Option<Moments>>>,
    regions: &[Region],
    options: &StyleOptions,
    device: &Device,
) -> Tensor<1> {
    let weights = options.layer_weights();
    moments
        .into_iter()
        .zip(regions)
        .flat_map(|(moments, region)| {
            let weights = &weights;
            (moments.into_iter().enumerate().zip(&region.targets)).filter_map(
                move |((layer, m), target)| {
                    let weight = weights[layer] * region.part(layer);
                    m.map(|m| layer_loss(m, target).mul_scalar(weight))
                },
            )
        })
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| Tensor::zeros([1], device))
        .mul_scalar(options.style_weight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::StyleLoss;
    use crate::test_util::{cpu, read};

    #[test]
    fn blocks_average_and_drop_the_rows_past_the_last_block() {
        // 5 × 3, d = 2: two blocks of the first two rows; column 4 and row 2 dropped.
        let plane: Vec<f32> = (0..15).map(|v| v as f32).collect();
        assert_eq!(average_blocks(&plane, [5, 3], 2), vec![3.0, 5.0]);
        assert_eq!(average_blocks(&plane, [5, 3], 1), plane);
    }

    /// `[1, c, 4, 4]` features of seeded noise.
    fn features(c: usize, seed: u64) -> Tensor<4> {
        let mut random = crate::random::SplitMix64::new(seed);
        let values: Vec<f32> = (0..c * 16).map(|_| random.uniform()).collect();
        Tensor::from_data(TensorData::new(values, [1, c, 4, 4]), &cpu())
    }

    /// A guide of ones is the unguided term, for both losses; a guided Gram matrix is the
    /// Gram matrix of the guided positions alone, written out by hand.
    #[test]
    fn a_guide_of_ones_is_the_unguided_loss_and_a_half_guide_sees_its_half() {
        let layers = [VggLayer::Relu1_1];
        for loss in [StyleLoss::Gram, StyleLoss::Wasserstein] {
            let options = StyleOptions {
                style_loss: loss,
                style_layers: vec![(VggLayer::Relu1_1, 1.0)],
                ..Default::default()
            };
            let target = vec![StyleTarget::new(Moments::of(features(3, 1)), loss)];
            let whole = Region {
                guide: None,
                targets: target.clone(),
            };
            let ones = Region {
                guide: Some(Guide::new(&[1.0; 16], [4, 4], &layers, &cpu())),
                targets: target,
            };
            let x = features(3, 2);
            let term = |r: &Region| {
                let regions = std::slice::from_ref(r);
                let m = region_moments(regions, 0, x.clone());
                read(style_term([m], regions, &options, &cpu()))[0]
            };
            let (a, b) = (term(&whole), term(&ones));
            assert!((a - b).abs() <= 1e-5 * a.abs(), "{loss:?}: {a} vs {b}");
        }
        // The left half (columns 0–1) guided: the Gram of those 8 positions over 3 · 8.
        let mut left = [0.0f32; 16];
        (0..16).filter(|i| i % 4 < 2).for_each(|i| left[i] = 1.0);
        // And the right half beside it, in the same product.
        let right: Vec<f32> = left.iter().map(|g| 1.0 - g).collect();
        let regions = [&left[..], &right[..]].map(|share| Region {
            guide: Some(Guide::new(share, [4, 4], &layers, &cpu())),
            targets: Vec::new(),
        });
        let x = features(3, 3);
        let moments = region_moments(&regions, 0, x.clone());
        for (m, columns) in moments.into_iter().zip([0, 2]) {
            let part = x.clone().narrow(3, columns, 2);
            let guided = read(m.as_ref().unwrap().gram.clone());
            let half = read(crate::loss::gram(part.clone()));
            for (g, h) in guided.iter().zip(&half) {
                assert!((g - h).abs() < 1e-6, "{g} vs {h}");
            }
            let [_, c, h, w] = part.dims();
            let mean = read(part.reshape([c, h * w]).mean_dim(1));
            for (g, h) in read(m.unwrap().mean).iter().zip(&mean) {
                assert!((g - h).abs() < 1e-6, "{g} vs {h}");
            }
        }
        assert_eq!(regions[0].part(0), 0.5);
    }
}
