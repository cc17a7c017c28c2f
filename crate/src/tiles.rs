//! The objective's gradient tile by tile, for images whose whole forward and backward pass
//! would not fit in memory.
//!
//! The style loss depends on the whole image only through each region's moments at each
//! layer (the Gram matrix and the mean, `crate::loss::Moments`, weighted by the region's
//! guide in a run with masks), which are sums over positions:
//! `G = Σ_tiles G_tile`, `μ = Σ_tiles μ_tile`. So one iteration is
//!
//! 1. a forward pass over every tile (with a halo wider than the receptive field of the
//!    deepest layer, whose features are discarded), summing each layer's moments;
//! 2. the style loss and its gradients `∂L/∂G`, `∂L/∂μ` from those sums (small matrices);
//! 3. per tile, a forward and backward pass of a surrogate whose gradient equals the whole
//!    objective's: `⟨∂L/∂G, G_tile⟩ + ⟨∂L/∂μ, μ_tile⟩` for the style (the gradients held
//!    constant) plus the tile's share of the content loss. Tile gradients, halo included, add up into the
//!    image's gradient: each feature position belongs to exactly one tile's interior, and its
//!    value and derivatives depend only on pixels inside that tile and its halo.
//!
//! The total variation is cheap and local, and runs on the whole image. Tiles start at
//! multiples of 16 pixels, so VGG16's four poolings see the same grid as in the whole image.

use burn::tensor::{Device, Tensor};

use crate::loss::{Moments, Region, Targets, region_shares, style_term, tv_loss};
use crate::options::StyleOptions;
use crate::report::Rect;
use crate::vgg::{Vgg16, VggLayer};

/// Tiles start on multiples of this: VGG16 halves the image four times.
pub const TILE_ALIGN: usize = 16;
/// The halo around each tile, in pixels: the receptive-field radius of `relu5_1` (the deepest
/// layer the engine reads; 66 px) rounded up to [`TILE_ALIGN`]. Measured by the test
/// `tiled_gradient_matches_the_whole_image`: the gradient's relative error is 1.3e-2 with a
/// 16 px halo, 1.1e-5 with 48 px, and float rounding (1.4e-7) from 80 px on.
pub const HALO: usize = 80;
/// Memory of one untiled iteration per pixel (autodiff keeps every activation through
/// `relu5_1` for the backward pass): measured natively on the CPU backend, a process peak of
/// 7.9 GB at 2048 px (1.9 KB a pixel) and 2.8 GB at 1024 px (2.7 KB a pixel with the
/// process's fixed part).
pub const BYTES_PER_PIXEL: u64 = 2000;

/// A tile: its interior, whose features it owns, and its outer rectangle (the interior plus
/// the halo, clipped to the image), in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Interior.
    pub interior: Rect,
    /// Interior and halo.
    pub outer: Rect,
}

/// A rectangle's first row, first column, height and width as indices: the order of a
/// tensor's `[…, rows, columns]` dimensions.
fn spans(r: Rect) -> [usize; 4] {
    [r.y, r.x, r.height, r.width].map(|v| v as usize)
}

/// Where a tile's outer rectangle starts in a layer's feature map at downsampling `d`.
fn origin(tile: &Tile, d: usize) -> [usize; 2] {
    let [y, x, ..] = spans(tile.outer);
    [y / d, x / d]
}

/// The tiles covering a `height × width` image with interiors of at most `side` pixels
/// (`side` a multiple of [`TILE_ALIGN`]) and halos of `halo` pixels.
pub fn tiles(height: usize, width: usize, side: usize, halo: usize) -> Vec<Tile> {
    debug_assert!(side.is_multiple_of(TILE_ALIGN) && halo.is_multiple_of(TILE_ALIGN) && side > 0);
    let spans = |n: usize| -> Vec<(usize, usize)> {
        (0..n.div_ceil(side))
            .map(|i| (i * side, side.min(n - i * side)))
            .collect()
    };
    let mut out = Vec::new();
    for &(y, h) in &spans(height) {
        for &(x, w) in &spans(width) {
            let (oy, ox) = (y.saturating_sub(halo), x.saturating_sub(halo));
            let (oh, ow) = (
                (y + h + halo).min(height) - oy,
                (x + w + halo).min(width) - ox,
            );
            let rect = |y: usize, x: usize, h: usize, w: usize| {
                let [x, y, width, height] = [x, y, w, h].map(|v| v as u32);
                Rect {
                    x,
                    y,
                    width,
                    height,
                }
            };
            out.push(Tile {
                interior: rect(y, x, h, w),
                outer: rect(oy, ox, oh, ow),
            });
        }
    }
    out
}

/// The interior side for tiles whose outer rectangle fits `budget` bytes, or `None` when the
/// whole `height × width` image fits (no tiling).
pub fn tile_side(height: usize, width: usize, budget: u64) -> Option<usize> {
    let pixels = budget / BYTES_PER_PIXEL;
    if (height * width) as u64 <= pixels {
        return None;
    }
    let outer = (pixels as f64).sqrt() as usize;
    let side = outer.saturating_sub(2 * HALO) / TILE_ALIGN * TILE_ALIGN;
    Some(side.max(TILE_ALIGN))
}

/// Rows (or columns) of a layer's whole feature map that a tile's interior owns: `[start,
/// end)` for an interior `[start, start + len)` of an image side `n`, at downsampling `d`.
fn owned(start: usize, len: usize, n: usize, d: usize) -> (usize, usize) {
    let end = if start + len == n {
        n / d
    } else {
        (start + len) / d
    };
    (start / d, end)
}

/// The feature positions a tile's interior owns, in the whole map's coordinates (rows, then
/// columns); `None` when it owns none (a sliver narrower than the layer's downsampling).
fn owned_region(tile: &Tile, size: [usize; 2], d: usize) -> Option<[(usize, usize); 2]> {
    let [y, x, h, w] = spans(tile.interior);
    let rows = owned(y, h, size[0], d);
    let columns = owned(x, w, size[1], d);
    (rows.1 > rows.0 && columns.1 > columns.0).then_some([rows, columns])
}

/// `[1, c, h, w]` → `[c, positions]` of the rows and columns given, offset by `origin`.
fn region(
    features: Tensor<4>,
    [rows, columns]: [(usize, usize); 2],
    origin: [usize; 2],
) -> Tensor<2> {
    let c = features.dims()[1];
    let (r0, c0) = (rows.0 - origin[0], columns.0 - origin[1]);
    let (h, w) = (rows.1 - rows.0, columns.1 - columns.0);
    features
        .narrow(2, r0, h)
        .narrow(3, c0, w)
        .reshape([c, h * w])
}

/// `[1, 3, h, w]` crop of `image` to a tile's outer rectangle.
fn crop(image: Tensor<4>, tile: &Tile) -> Tensor<4> {
    let [oy, ox, oh, ow] = spans(tile.outer);
    image.narrow(2, oy, oh).narrow(3, ox, ow)
}

/// Number of elements `c · h · w` of a layer's whole feature map (the Gram and content
/// normalisation).
fn elements(channels: usize, size: [usize; 2], d: usize) -> f32 {
    (channels * positions(size, d)) as f32
}

/// How an image is cut: interiors of at most `side` pixels, halos of `halo` pixels (both
/// multiples of [`TILE_ALIGN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    /// Interior side.
    pub side: usize,
    /// Halo width.
    pub halo: usize,
}

/// Positions `h · w` of a layer's whole feature map at downsampling `d`.
fn positions(size: [usize; 2], d: usize) -> usize {
    (size[0] / d) * (size[1] / d)
}

/// Each region's moments of each of `layers` in `image` (`[1, 3, h, w]`, no autodiff), summed
/// tile by tile: equal to [`Region::moments`] of the whole image's features (`None` where the
/// region has no weight at a layer).
pub(crate) fn tiled_moments(
    vgg: &Vgg16,
    image: &Tensor<4>,
    layers: &[VggLayer],
    tiling: Tiling,
    regions: &[Region],
) -> Vec<Vec<Option<Moments>>> {
    let [_, _, height, width] = image.dims();
    let size = [height, width];
    let mut sums: Vec<Vec<Option<Moments>>> = vec![vec![None; layers.len()]; regions.len()];
    for tile in &tiles(height, width, tiling.side, tiling.halo) {
        let features = vgg.features(crop(image.clone(), tile), layers);
        for (l, (f, layer)) in features.into_iter().zip(layers).enumerate() {
            let d = layer.downsampling();
            let Some(owned) = owned_region(tile, size, d) else {
                continue;
            };
            let f = region(f, owned, origin(tile, d));
            let shares = region_shares(regions, l, f, owned, positions(size, d));
            for (sums, share) in sums.iter_mut().zip(shares) {
                let Some(share) = share else {
                    continue;
                };
                sums[l] = Some(match sums[l].take() {
                    None => share,
                    Some(s) => s.plus(share),
                });
            }
        }
    }
    sums
}

/// One layer's features of `image` (`[1, 3, h, w]`, no autodiff), assembled tile by tile:
/// equal to the whole image's.
pub(crate) fn tiled_features(
    vgg: &Vgg16,
    image: &Tensor<4>,
    layer: VggLayer,
    tiling: Tiling,
) -> Tensor<4> {
    let [_, _, height, width] = image.dims();
    let size = [height, width];
    let d = layer.downsampling();
    let mut out: Option<Tensor<4>> = None;
    for tile in &tiles(height, width, tiling.side, tiling.halo) {
        let f = vgg.features(crop(image.clone(), tile), &[layer]).remove(0);
        let c = f.dims()[1];
        let whole = out
            .get_or_insert_with(|| Tensor::zeros([1, c, height / d, width / d], &image.device()));
        if let Some(owned @ [rows, columns]) = owned_region(tile, size, d) {
            let part = region(f, owned, origin(tile, d));
            let part = part.reshape([1, c, rows.1 - rows.0, columns.1 - columns.0]);
            *whole = whole
                .clone()
                .slice_assign([0..1, 0..c, rows.0..rows.1, columns.0..columns.1], part);
        }
    }
    out.expect("at least one tile")
}

/// The weighted loss terms `[content, style, tv]` (each `[1]`) and the gradient of their
/// sum at `image` (`[1, 3, h, w]`, without autodiff), tile by tile, against the same
/// targets as the untiled objective.
/// `on_tile(k, n)` runs after each of the `n` tiles of the gradient pass; returning `false`
/// stops early with `None`.
pub(crate) fn tiled_gradient(
    vgg: &Vgg16,
    image: &Tensor<4>,
    targets: &Targets,
    options: &StyleOptions,
    tiling: Tiling,
    mut on_tile: impl FnMut(usize, usize, &Tile) -> bool,
) -> Option<([Tensor<1>; 3], Tensor<4>)> {
    let device: Device = image.device();
    let [_, _, height, width] = image.dims();
    let size = [height, width];
    let style_layers: Vec<VggLayer> = options.style_layers.iter().map(|l| l.0).collect();

    // 1 and 2: each region's moments from every tile, then the style loss and its gradient
    // with respect to each of them (the Gram loss reads no mean: no gradient there).
    let leaves: Vec<Vec<Option<Moments>>> =
        tiled_moments(vgg, image, &style_layers, tiling, &targets.regions)
            .into_iter()
            .map(|region| {
                (region.into_iter())
                    .map(|m| {
                        m.map(|m| Moments {
                            gram: m.gram.autodiff().require_grad(),
                            mean: m.mean.autodiff().require_grad(),
                        })
                    })
                    .collect()
            })
            .collect();
    let style = style_term(leaves.iter().cloned(), &targets.regions, options, &device);
    // With no style layer (the style off) there is no graph to go back through.
    type Gradients = Option<(Tensor<2>, Option<Tensor<2>>)>;
    let d_moments: Vec<Vec<Gradients>> = if leaves.iter().flatten().all(Option::is_none) {
        Vec::new()
    } else {
        let gradients = style.backward();
        (leaves.iter())
            .map(|region| {
                (region.iter())
                    .map(|m| {
                        let m = m.as_ref()?;
                        let d_gram = m.gram.grad(&gradients)?;
                        Some((d_gram, m.mean.grad(&gradients)))
                    })
                    .collect()
            })
            .collect()
    };
    let style = style.inner();

    // 3. Per tile, the surrogate's gradient, added into the image's.
    let content_layer = options.content_layer;
    let layers: Vec<VggLayer> = std::iter::once(content_layer)
        .chain(style_layers.iter().copied())
        .collect();
    let all = tiles(height, width, tiling.side, tiling.halo);
    let mut gradient = Tensor::<4>::zeros([1, 3, height, width], &device);
    let mut content_loss = Tensor::<1>::zeros([1], &device);
    for (k, tile) in all.iter().enumerate() {
        let leaf = crop(image.clone(), tile).autodiff().require_grad();
        let mut features = vgg.features(leaf.clone(), &layers).into_iter();
        let f = features.next().expect("the content layer first");
        let (c, d) = (f.dims()[1], content_layer.downsampling());
        // The content term: this tile's part of the mean squared difference.
        let mut surrogate = match owned_region(tile, size, d) {
            Some(owned) => {
                let f = region(f, owned, origin(tile, d));
                let target = region(targets.content.clone(), owned, [0, 0]);
                (f - target)
                    .square()
                    .sum()
                    .div_scalar(elements(c, size, d))
                    .mul_scalar(options.content_weight)
            }
            None => Tensor::<1>::zeros([1], &leaf.device()),
        };
        content_loss = content_loss + surrogate.clone().inner();
        // The style term: ⟨∂L/∂G, G_tile⟩ + ⟨∂L/∂μ, μ_tile⟩ of each region, the gradients
        // held constant.
        for (l, (f, layer)) in features.zip(&style_layers).enumerate() {
            let d = layer.downsampling();
            let Some(owned) = owned_region(tile, size, d) else {
                continue;
            };
            let f = region(f, owned, origin(tile, d));
            let shares = region_shares(&targets.regions, l, f, owned, positions(size, d));
            for (share, d_region) in shares.into_iter().zip(&d_moments) {
                let (Some(share), Some((d_gram, d_mean))) = (share, &d_region[l]) else {
                    continue;
                };
                surrogate = surrogate + (share.gram * d_gram.clone()).sum();
                if let Some(d_mean) = d_mean {
                    surrogate = surrogate + (share.mean * d_mean.clone()).sum();
                }
            }
        }
        let tile_gradient = leaf
            .grad(&surrogate.backward())
            .expect("the tile leaf requires a gradient");
        let [oy, ox, oh, ow] = spans(tile.outer);
        let ranges = [0..1, 0..3, oy..oy + oh, ox..ox + ow];
        let sum = gradient.clone().slice(ranges.clone()) + tile_gradient;
        gradient = gradient.slice_assign(ranges, sum);
        if !on_tile(k + 1, all.len(), tile) {
            return None;
        }
    }

    // The total variation, on the whole image.
    let leaf = image.clone().autodiff().require_grad();
    let tv = tv_loss(leaf.clone()).mul_scalar(options.tv_weight);
    let tv_gradient = leaf
        .grad(&tv.backward())
        .expect("the image requires a gradient");
    Some(([content_loss, style, tv.inner()], gradient + tv_gradient))
}

#[cfg(test)]
mod tests;
