//! Runs with masks (Gatys et al. 2017's spatial control) on the CPU backend: each painting
//! where its mask puts it, the photo where it is kept.

mod common;

use std::ops::ControlFlow;

use common::*;
use style_transfer::{
    Image, Init, Mask, StyleImage, StyleOptions, StylizeError, Stylized, Stylizer,
};

/// A second painting unlike the first: diagonal stripes of saturated blue and yellow, 6 px
/// apart.
fn stripes(side: u32) -> Image {
    let n = (side * side) as usize;
    let mut data = vec![0.0; 3 * n];
    for i in 0..n {
        let (x, y) = (i as u32 % side, i as u32 / side);
        let yellow = (x + y) % 12 < 6;
        let rgb = if yellow {
            [0.95, 0.85, 0.1]
        } else {
            [0.1, 0.2, 0.8]
        };
        (0..3).for_each(|c| data[c * n + i] = rgb[c]);
    }
    Image::from_planar(side, side, data).unwrap()
}

/// A mask of `width × height` that is 1 where `inside(x, y)` (in 0–1 coordinates).
fn mask(width: u32, height: u32, inside: impl Fn(f32, f32) -> bool) -> Mask {
    let values = (0..width * height)
        .map(|i| {
            let (x, y) = ((i % width) as f32 + 0.5, (i / width) as f32 + 0.5);
            f32::from(u8::from(inside(x / width as f32, y / height as f32)))
        })
        .collect();
    Mask::from_values(width, height, values).unwrap()
}

/// The part of `image` from `x0` to `x1` and `y0` to `y1` (0–1 coordinates).
fn crop(image: &Image, [x0, x1]: [f32; 2], [y0, y1]: [f32; 2]) -> Image {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let (left, top) = ((x0 * w) as usize, (y0 * h) as usize);
    let (width, height) = ((x1 * w) as usize - left, (y1 * h) as usize - top);
    let n = image.pixel_count();
    let mut data = Vec::with_capacity(3 * width * height);
    for c in 0..3 {
        for y in top..top + height {
            let row = c * n + y * image.width() as usize;
            data.extend_from_slice(&image.planar()[row + left..row + left + width]);
        }
    }
    Image::from_planar(width as u32, height as u32, data).unwrap()
}

fn mean_abs_difference(a: &Image, b: &Image) -> f32 {
    let sum: f32 = (a.planar().iter().zip(b.planar()))
        .map(|(x, y)| (x - y).abs())
        .sum();
    sum / a.planar().len() as f32
}

struct Scene {
    stylizer: Stylizer,
    photo: Image,
    painting: Image,
    stripes: Image,
    left: Mask,
    right: Mask,
    keep: Mask,
}

/// The photo with the painting in the top left, the stripes in the top right and the photo
/// kept in the bottom third; the masks at a quarter of the photo's size (masks come at any
/// size in the photo's shape).
fn scene() -> Scene {
    let photo = fixture("photo.jpg");
    let (w, h) = (photo.width() / 4, photo.height() / 4);
    Scene {
        stylizer: Stylizer::new(&int8_weights(), &cpu())
            .with_fast(&fast_weights())
            .unwrap(),
        painting: fixture("painting.png"),
        stripes: stripes(256),
        left: mask(w, h, |x, y| x < 0.5 && y < 2.0 / 3.0),
        right: mask(w, h, |x, y| x >= 0.5 && y < 2.0 / 3.0),
        keep: mask(w, h, |_, y| y >= 2.0 / 3.0),
        photo,
    }
}

impl Scene {
    fn styles(&self) -> [StyleImage<'_>; 2] {
        [
            StyleImage {
                image: &self.painting,
                blend: 1.0,
                mask: Some(&self.left),
            },
            StyleImage {
                image: &self.stripes,
                blend: 1.0,
                mask: Some(&self.right),
            },
        ]
    }

    fn run(&self, options: &StyleOptions) -> Result<Stylized, StylizeError> {
        let styles = self.styles();
        pollster::block_on(self.stylizer.stylize_keeping(
            &self.photo,
            Some(&self.keep),
            &styles,
            options,
            |_| ControlFlow::Continue(()),
        ))
    }

    /// The style loss of `part` of a result against `painting` alone, seen at the scale the
    /// run saw it (the painting resized to the run's size, not the part's).
    fn style_loss(&self, part: &Image, painting: &Image, run_size: u32) -> f32 {
        let options = StyleOptions {
            style_scale: run_size as f32 / part.width().max(part.height()) as f32,
            ..Default::default()
        };
        let styles = [StyleImage {
            image: painting,
            blend: 1.0,
            mask: None,
        }];
        let photo = part.clone();
        let losses = self.stylizer.evaluate(part, &photo, &styles, &options);
        pollster::block_on(losses).unwrap().style
    }
}

/// The test: each top half ends far closer in style to its own painting than to the
/// other (by ≥ 3×), and the kept bottom stays near the photo while the top moves far from
/// it. Regions are judged away from their borders (a tenth of the picture), where the
/// receptive fields of the deep layers reach across.
#[test]
fn each_region_takes_its_own_painting_and_the_kept_one_the_photo() {
    let scene = scene();
    let size = 128;
    let options = StyleOptions {
        size,
        iterations: 60,
        init: Init::Content,
        ..Default::default()
    };
    let result = scene.run(&options).unwrap().image;
    let photo = scene.photo.resize(result.width(), result.height());
    let (left, right) = ([0.0, 0.4], [0.6, 1.0]);
    let (top, bottom) = ([0.0, 0.55], [0.78, 1.0]);
    // Each half's style loss against its own painting over that against the other.
    let ratios = |result: &Image| {
        [
            (left, &scene.painting, &scene.stripes),
            (right, &scene.stripes, &scene.painting),
        ]
        .map(|(part, own, other)| {
            let part = crop(result, part, top);
            let to_own = scene.style_loss(&part, own, size);
            to_own / scene.style_loss(&part, other, size)
        })
    };
    let guided = ratios(&result);
    // Without masks the two paintings blend everywhere: the same measure cannot tell the
    // halves apart.
    let blended = {
        let styles = scene.styles().map(|s| StyleImage { mask: None, ..s });
        let run = scene
            .stylizer
            .stylize(&scene.photo, &styles, &options, |_| {
                ControlFlow::Continue(())
            });
        ratios(&pollster::block_on(run).unwrap().image)
    };
    println!(
        "style loss against its own painting / the other's: guided {guided:?}, blended {blended:?}"
    );
    assert!(guided.iter().all(|&r| r <= 1.0 / 3.0), "{guided:?}");
    assert!(blended.iter().any(|&r| r > 1.0 / 3.0), "{blended:?}");
    let kept = mean_abs_difference(
        &crop(&result, [0.0, 1.0], bottom),
        &crop(&photo, [0.0, 1.0], bottom),
    );
    let painted = mean_abs_difference(
        &crop(&result, [0.0, 1.0], top),
        &crop(&photo, [0.0, 1.0], top),
    );
    println!("mean difference from the photo: kept {kept:.4}, painted {painted:.4}");
    assert!(
        kept < 0.03 && kept < 0.25 * painted,
        "kept {kept}, painted {painted}"
    );
}

/// The fast start follows the masks: the network's picture with each painting where it goes
/// and the photo where it is kept, so the first frame already shows the regions.
#[test]
fn the_fast_start_paints_each_region_with_its_painting() {
    let scene = scene();
    let quick = StyleOptions {
        size: 96,
        iterations: 0,
        init: Init::Fast,
        ..Default::default()
    };
    let guided = scene.run(&quick).unwrap().image;
    let alone = |painting: &Image| {
        let styles = [StyleImage {
            image: painting,
            blend: 1.0,
            mask: None,
        }];
        let run = scene
            .stylizer
            .stylize(&scene.photo, &styles, &quick, |_| ControlFlow::Continue(()));
        pollster::block_on(run).unwrap().image
    };
    let (painted, striped) = (alone(&scene.painting), alone(&scene.stripes));
    let photo = scene.photo.resize(guided.width(), guided.height());
    let top = [0.0, 0.6];
    for (part, expected) in [([0.0, 0.45], &painted), ([0.55, 1.0], &striped)] {
        let difference = mean_abs_difference(&crop(&guided, part, top), &crop(expected, part, top));
        assert!(difference < 1e-3, "{part:?}: {difference}");
    }
    let bottom = [0.7, 1.0];
    let kept = mean_abs_difference(
        &crop(&guided, [0.0, 1.0], bottom),
        &crop(&photo, [0.0, 1.0], bottom),
    );
    assert!(kept < 1e-3, "{kept}");
}

/// Masks that cannot guide a run are refused before any work, naming the mask.
#[test]
fn masks_that_cannot_guide_a_run_are_refused() {
    let scene = scene();
    let options = StyleOptions {
        size: 64,
        iterations: 1,
        ..Default::default()
    };
    let square = mask(10, 10, |x, _| x < 0.5);
    let styles = [StyleImage {
        image: &scene.painting,
        blend: 1.0,
        mask: Some(&square),
    }];
    let run = scene
        .stylizer
        .stylize(&scene.photo, &styles, &options, |_| {
            panic!("no work starts")
        });
    let error = pollster::block_on(run).unwrap_err();
    assert!(matches!(error, StylizeError::Masks(_)), "{error}");
    assert!(error.to_string().contains("mask of style 1"), "{error}");
}
