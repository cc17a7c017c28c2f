//! Conversions, resampling, and pixels from outside (buffers of any length, sizes of any
//! value): an [`ImageError`] or an image, never a panic.

use super::*;
use crate::test_util::{Random, no_panic};

#[test]
fn rgba_is_composited_over_white() {
    let img = Image::from_rgba8(1, 1, &[255, 0, 0, 0]).unwrap();
    assert_eq!(img.to_rgb8(), vec![255, 255, 255]);
    let img = Image::from_rgba8(1, 1, &[0, 0, 0, 255]).unwrap();
    assert_eq!(img.to_rgb8(), vec![0, 0, 0]);
}

#[test]
fn bad_buffers_are_errors() {
    assert_eq!(
        Image::from_rgb8(0, 5, &[]),
        Err(ImageError::Empty {
            width: 0,
            height: 5
        })
    );
    assert!(matches!(
        Image::from_rgb8(2, 2, &[0; 11]),
        Err(ImageError::Length { .. })
    ));
    assert!(matches!(
        Image::from_rgb8(100_000, 100_000, &[]),
        Err(ImageError::TooLarge { .. })
    ));
}

#[test]
fn resize_preserves_a_constant_and_averages_when_shrinking() {
    for filter in [Filter::Triangle, Filter::Lanczos3] {
        let flat = Image::from_planar(7, 5, vec![0.25; 105]).unwrap();
        for v in flat.resize_with(3, 11, filter).planar() {
            assert!((v - 0.25).abs() < 1e-6);
        }
        // A 1-pixel checkerboard shrinks to its mean grey instead of aliasing.
        let checker: Vec<f32> = (0..3)
            .flat_map(|_| (0..256).map(|i| ((i % 16 + i / 16) % 2) as f32))
            .collect();
        let small = Image::from_planar(16, 16, checker)
            .unwrap()
            .resize_with(4, 4, filter);
        for v in small.planar() {
            assert!((v - 0.5).abs() < 0.1, "{filter:?}: {v}");
        }
    }
}

/// Shrinking a step edge four times: Lanczos-3 keeps it steeper than the triangle, and
/// every value within `[0, 1]`.
#[test]
fn lanczos_keeps_edges_sharper_than_the_triangle() {
    let step: Vec<f32> = (0..3)
        .flat_map(|_| (0..64 * 4).map(|i| f32::from(u8::from(i % 64 >= 32))))
        .collect();
    let image = Image::from_planar(64, 4, step).unwrap();
    let steepest = |filter| {
        let small = image.resize_with(16, 1, filter);
        let row = &small.planar()[..16];
        assert!(row.iter().all(|v| (0.0..=1.0).contains(v)));
        row.windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max)
    };
    let (triangle, lanczos) = (steepest(Filter::Triangle), steepest(Filter::Lanczos3));
    println!("steepest step: triangle {triangle:.3}, Lanczos-3 {lanczos:.3}");
    assert!(lanczos > triangle + 0.05);
}

#[test]
fn long_side_keeps_aspect_ratio() {
    let img = Image::from_planar(400, 300, vec![0.0; 360_000]).unwrap();
    assert_eq!(img.size_for_long_side(128), (128, 96));
    let tall = Image::from_planar(3, 300, vec![0.0; 2700]).unwrap();
    assert_eq!(tall.size_for_long_side(64), (1, 64));
}

/// Which constructor a case calls.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Rgba8,
    Rgb8,
    Planar,
}

impl Layout {
    fn values_per_pixel(self) -> u64 {
        match self {
            Layout::Rgba8 => 4,
            Layout::Rgb8 | Layout::Planar => 3,
        }
    }

    fn make(self, width: u32, height: u32, len: usize, fill: u8) -> Result<Image, ImageError> {
        match self {
            Layout::Rgba8 => Image::from_rgba8(width, height, &vec![fill; len]),
            Layout::Rgb8 => Image::from_rgb8(width, height, &vec![fill; len]),
            Layout::Planar => Image::from_planar(width, height, vec![f32::from(fill) / 255.0; len]),
        }
    }
}

/// A side: zero, small, at the pixel limit's edges, past it, or anywhere in `u32`.
fn side(random: &mut Random) -> u32 {
    match random.below(10) {
        0 => random.pick(&[0, 1, 2, 3]),
        1..=5 => 1 + random.below(64) as u32,
        6 => random.pick(&[9_999, 10_000, 10_001, 65_535, 65_536, 100_000_000]),
        7 => random.pick(&[100_000_001, 1 << 31, u32::MAX - 1, u32::MAX]),
        _ => random.bits() as u32,
    }
}

/// Widths, heights and buffer lengths of every kind through the three constructors: an
/// image exactly when the sizes are valid and the length is theirs, else the error that says
/// which (emptiness first, then size, then length). Buffers are never larger than a few
/// thousand values: a size too large to fill is still checked against short buffers.
#[test]
fn any_size_and_length_is_an_image_or_the_right_error() {
    const SEED: u64 = 0x1a6e;
    let mut random = Random::new(SEED);
    let mut counts = [0usize; 4];
    for case in 0..4000 {
        let layout = random.pick(&[Layout::Rgba8, Layout::Rgb8, Layout::Planar]);
        let (width, height) = (side(&mut random), side(&mut random));
        let pixels = u64::from(width) * u64::from(height);
        let right = pixels * layout.values_per_pixel();
        let len = match (right <= 16_384, random.below(6)) {
            (true, 0..=1) => right as usize,
            (true, 2) => right as usize + 1,
            (true, 3) => (right as usize).saturating_sub(1),
            (_, 4) => 0,
            _ => random.below(4097),
        };
        let fill = random.bits() as u8;
        let what =
            format!("seed {SEED:#x}, case {case}: {layout:?} {width}×{height} with {len} values");
        let result = no_panic(&what, || layout.make(width, height, len, fill));
        let expected = if width == 0 || height == 0 {
            Err(ImageError::Empty { width, height })
        } else if pixels > MAX_INPUT_PIXELS {
            Err(ImageError::TooLarge { width, height })
        } else if len as u64 != right {
            Err(ImageError::Length {
                expected: right as usize,
                actual: len,
            })
        } else {
            Ok(())
        };
        match (result, expected) {
            (Ok(image), Ok(())) => {
                counts[0] += 1;
                assert_eq!((image.width(), image.height()), (width, height), "{what}");
                assert_eq!(image.planar().len() as u64, 3 * pixels, "{what}");
                let all_in_range = image.planar().iter().all(|v| (0.0..=1.0).contains(v));
                assert!(all_in_range, "{what}: values outside [0, 1]");
            }
            (Err(error), Err(expected)) => {
                let kind = match expected {
                    ImageError::Empty { .. } => 1,
                    ImageError::TooLarge { .. } => 2,
                    ImageError::Length { .. } => 3,
                };
                counts[kind] += 1;
                assert_eq!(error, expected, "{what}");
            }
            (result, expected) => {
                let result = result.map(|image| (image.width(), image.height()));
                panic!("{what}: {result:?}, expected {expected:?}")
            }
        }
    }
    println!(
        "images {}, empty {}, too large {}, wrong length {}",
        counts[0], counts[1], counts[2], counts[3]
    );
    assert!(counts.iter().all(|&n| n >= 100), "{counts:?}");
}
