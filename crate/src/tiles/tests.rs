//! The tiled passes against the whole image's.

use super::*;
use crate::image::Image;
use crate::mask::Mask;
use crate::objective::{objective, objective_layers, targets};
use crate::style::StyleImage;
use crate::test_util::{self, cpu, int8_weights, read, relative_error};

fn fixture(name: &str, width: u32, height: u32) -> Image {
    test_util::fixture(name).resize(width, height)
}

/// The image the tiled tests score (photo and painting mixed 7:3 at `width × height`), its
/// targets, and the whole image's loss terms and gradient there.
struct Whole {
    vgg: Vgg16,
    x: Tensor<4>,
    targets: Targets,
    terms: [f32; 3],
    gradient: Vec<f32>,
}

fn whole(options: &StyleOptions, width: u32, height: u32) -> Whole {
    whole_guided(options, width, height, false)
}

/// [`whole`], or with `guided` two regions and a kept corner: the painting on the left, the
/// photo's own style on the right, soft ramps where they meet, and the photo kept in the
/// top-left corner.
fn whole_guided(options: &StyleOptions, width: u32, height: u32, guided: bool) -> Whole {
    let vgg =
        Vgg16::new(&int8_weights(), &cpu()).with_architecture(options.padding, options.pooling);
    let (content, style) = (
        fixture("photo.jpg", width, height),
        fixture("painting.png", width, height),
    );
    let (w, h) = (width as usize, height as usize);
    let ramp = |f: &dyn Fn(f32) -> f32| {
        let values = (0..w * h).map(|i| f((i % w) as f32 / w as f32)).collect();
        Mask::from_values(width, height, values).unwrap()
    };
    let left = ramp(&|x| ((0.6 - x) * 5.0).clamp(0.0, 1.0));
    let right = ramp(&|x| ((x - 0.4) * 5.0).clamp(0.0, 1.0));
    let corner = (0..w * h)
        .map(|i| f32::from(u8::from(i % w < w / 4 && i / w < h / 3)))
        .collect();
    let corner = Mask::from_values(width, height, corner).unwrap();
    let styles = match guided {
        false => vec![StyleImage {
            image: &style,
            blend: 1.0,
            mask: None,
        }],
        true => vec![
            StyleImage {
                image: &style,
                blend: 1.0,
                mask: Some(&left),
            },
            StyleImage {
                image: &content,
                blend: 1.0,
                mask: Some(&right),
            },
        ],
    };
    let keep = guided.then_some(&corner);
    let targets = targets(
        &vgg,
        &content,
        &styles,
        keep,
        options,
        width.max(height),
        16,
    );
    let x = content.to_tensor(&cpu()).mul_scalar(0.7) + style.to_tensor(&cpu()).mul_scalar(0.3);
    let leaf = x.clone().autodiff().require_grad();
    let whole = objective(
        &vgg,
        leaf.clone(),
        &targets,
        options,
        &objective_layers(options),
    );
    let terms =
        [whole.content.clone(), whole.style.clone(), whole.tv.clone()].map(|t| read(t.inner())[0]);
    let gradient = read(
        leaf.grad(&(whole.content + whole.style + whole.tv).backward())
            .unwrap(),
    );
    Whole {
        vgg,
        x,
        targets,
        terms,
        gradient,
    }
}

/// The tiled gradient and loss terms against the whole image's, on a 160 × 112 image in
/// tiles of 48 (twelve tiles, every kind of edge), for several halos. Summed in another
/// order, the two agree to float rounding (about 1e-6) once the halo covers the receptive
/// field of `relu5_1` (radius 66 px, plus the pooling grid); a narrower halo feeds the
/// interior features zero padding instead of neighbouring pixels, which shows as errors
/// of percent size. This is how [`HALO`] was chosen.
#[test]
fn tiled_gradient_matches_the_whole_image() {
    let options = StyleOptions {
        size: 160,
        ..Default::default()
    };
    let w = whole(&options, 160, 112);
    let mut errors = Vec::new();
    for halo in [16, 48, HALO] {
        let tiling = Tiling { side: 48, halo };
        let (tiled_terms, tiled) =
            tiled_gradient(&w.vgg, &w.x, &w.targets, &options, tiling, |_, _, _| true).unwrap();
        let tiled_terms = tiled_terms.map(|t| read(t)[0]);
        let error = relative_error(&read(tiled), &w.gradient);
        println!(
            "halo {halo}: gradient relative error {error:.2e}; terms {tiled_terms:?} vs {:?}",
            w.terms
        );
        errors.push(error);
        if halo >= 80 {
            for (a, b) in tiled_terms.iter().zip(&w.terms) {
                assert!((a - b).abs() <= 1e-5 * b.abs(), "halo {halo}: {a} vs {b}");
            }
        }
    }
    assert!(errors[2] < 1e-6, "{errors:?}");
    assert!(errors[0] > 1e-3, "a 16 px halo should show: {errors:?}");
}

/// The tiled terms and gradient (tiles of 48, the full halo) against `w`'s whole ones, to
/// 1e-4 and 1e-5; `what` names the case.
fn assert_tiles_match(w: &Whole, options: &StyleOptions, what: &str) {
    let tiling = Tiling {
        side: 48,
        halo: HALO,
    };
    let (terms, tiled) =
        tiled_gradient(&w.vgg, &w.x, &w.targets, options, tiling, |_, _, _| true).unwrap();
    let terms = terms.map(|t| read(t)[0]);
    let error = relative_error(&read(tiled), &w.gradient);
    println!(
        "{what}: gradient relative error {error:.2e}; terms {terms:?} vs {:?}",
        w.terms
    );
    for (a, b) in terms.iter().zip(&w.terms) {
        assert!((a - b).abs() <= 1e-4 * b.abs(), "{what}: {a} vs {b}");
    }
    assert!(error < 1e-5, "{what}: {error}");
}

/// The same with the objective's alternatives: the Wasserstein style loss (whose gradient
/// also flows through each layer's mean), depth-scaled layer weights, replicated or
/// reflected edges (the image's border is a tile's border too) and average pooling.
#[test]
fn tiled_gradient_matches_the_whole_image_with_the_alternatives() {
    use crate::{Padding, Pooling, StyleLayerWeights, StyleLoss};
    for (padding, pooling) in [
        (Padding::Replicate, Pooling::Average),
        (Padding::Reflect, Pooling::Max),
    ] {
        let options = StyleOptions {
            size: 160,
            style_loss: StyleLoss::Wasserstein,
            style_layer_weights: StyleLayerWeights::CoarseToFine,
            padding,
            pooling,
            ..Default::default()
        };
        let w = whole(&options, 160, 112);
        assert_tiles_match(&w, &options, &format!("{padding:?}, {pooling:?}"));
    }
}

/// The same with masks: two regions with soft edges between them and a kept corner, each
/// region's guide cut into the tiles with its features.
#[test]
fn tiled_gradient_matches_the_whole_image_with_masks() {
    for style_loss in [crate::StyleLoss::Gram, crate::StyleLoss::Wasserstein] {
        let options = StyleOptions {
            size: 160,
            style_loss,
            ..Default::default()
        };
        let w = whole_guided(&options, 160, 112, true);
        assert_eq!(w.targets.regions.len(), 2);
        assert_tiles_match(&w, &options, &format!("{style_loss:?} with masks"));
    }
}

/// With the style off (weight 0, no layer: valid options), the tiled pass has no Gram
/// matrix to gather and still gives the whole image's terms and gradient; it used to
/// panic summing an empty style term.
#[test]
fn tiles_without_a_style_layer_match_the_whole_image() {
    let options = StyleOptions {
        size: 64,
        style_weight: 0.0,
        style_layers: vec![],
        ..Default::default()
    };
    let w = whole(&options, 64, 48);
    let tiling = Tiling {
        side: 32,
        halo: HALO,
    };
    let (tiled_terms, tiled) =
        tiled_gradient(&w.vgg, &w.x, &w.targets, &options, tiling, |_, _, _| true).unwrap();
    let tiled_terms = tiled_terms.map(|t| read(t)[0]);
    assert_eq!(tiled_terms[1], 0.0);
    for (a, b) in tiled_terms.iter().zip(&w.terms) {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs(),
            "{tiled_terms:?} vs {:?}",
            w.terms
        );
    }
    assert!(relative_error(&read(tiled), &w.gradient) < 1e-6);
}

#[test]
fn tiles_cover_the_image_once_and_start_on_the_pooling_grid() {
    for (h, w, side) in [(100, 70, 32), (64, 64, 64), (33, 200, 16), (48, 48, 96)] {
        let all = tiles(h, w, side, 32);
        let mut covered = vec![0; h * w];
        for t in &all {
            let [y, x, th, tw] = spans(t.interior);
            let [oy, ox, oh, ow] = spans(t.outer);
            assert_eq!((y % TILE_ALIGN, x % TILE_ALIGN), (0, 0));
            assert_eq!((oy % TILE_ALIGN, ox % TILE_ALIGN), (0, 0));
            assert!(oy <= y && ox <= x && oy + oh >= y + th && ox + ow >= x + tw);
            assert!(oy + oh <= h && ox + ow <= w);
            for r in y..y + th {
                for c in x..x + tw {
                    covered[r * w + c] += 1;
                }
            }
        }
        assert!(covered.iter().all(|&n| n == 1), "{h}x{w} by {side}");
    }
}

#[test]
fn owned_feature_rows_partition_the_feature_map() {
    // A 100-pixel side in tiles of 32: at every downsampling, the tiles' owned feature
    // rows are consecutive and end at the whole map's floor(100 / d).
    for d in [1, 2, 4, 8, 16] {
        let mut next = 0;
        for t in tiles(100, 16, 32, 32) {
            let [y, _, h, _] = spans(t.interior);
            let (a, b) = owned(y, h, 100, d);
            assert_eq!(a, next, "d = {d}");
            next = b;
        }
        assert_eq!(next, 100 / d);
    }
}

#[test]
fn tile_side_fits_the_budget() {
    assert_eq!(tile_side(512, 512, 1 << 30), None);
    let side = tile_side(4096, 4096, 1 << 30).unwrap();
    assert_eq!(side % TILE_ALIGN, 0);
    let outer = (side + 2 * HALO) as u64;
    assert!(outer * outer * BYTES_PER_PIXEL <= 1 << 30);
}
