//! The colour transfer's defining properties, on the committed fixtures.

use super::*;
use crate::test_util::fixture;

fn pictures() -> (Image, Image) {
    (
        fixture("photo.jpg").resize(96, 64),
        fixture("painting.png").resize(80, 80),
    )
}

fn assert_same_palette(a: &Palette, b: &Palette, tolerance: f64) {
    for c in 0..3 {
        assert!((a.mean[c] - b.mean[c]).abs() < tolerance, "{a:?} vs {b:?}");
        for d in 0..3 {
            let (x, y) = (a.covariance[c][d], b.covariance[c][d]);
            assert!((x - y).abs() < tolerance * 0.1, "{a:?} vs {b:?}");
        }
    }
}

/// f32 pixels: means to about 1e-7, covariances (about 0.01–0.05 here) to about 1e-8.
#[test]
fn a_recoloured_picture_has_the_target_s_mean_and_covariance() {
    let (photo, painting) = pictures();
    let target = Palette::of(&photo);
    assert_same_palette(&Palette::of(&recolor(&painting, &target)), &target, 1e-5);
    // And the other way round: the photo in the painting's palette.
    let target = Palette::of(&painting);
    assert_same_palette(&Palette::of(&recolor(&photo, &target)), &target, 1e-5);
}

/// The linear maps that take covariance S to T (A S Aᵀ = T) are many: Gatys et al. 2017
/// name the Cholesky one (L_T L_S⁻¹) and the image-analogies one (T^½ S^-½). The
/// Monge–Kantorovich map moves the colours least; measured here on the fixtures, as the mean
/// squared change of a pixel, with the three maps side by side.
#[test]
fn the_chosen_map_moves_the_colours_least() {
    let (photo, painting) = pictures();
    let from = Palette::of(&painting);
    let to = Palette::of(&photo);
    let (s, t) = (power(from.covariance, 1.0), power(to.covariance, 1.0));
    let analogies = mul(power(t, 0.5), power(s, -0.5));
    let choleskys = mul(cholesky(t), inverse_lower(cholesky(s)));
    let moved = |a: Option<Mat3>| {
        let out = match a {
            None => recolor(&painting, &to),
            Some(a) => apply(&painting, &from, &to, a),
        };
        assert_same_palette(&Palette::of(&out), &to, 1e-5);
        let (x, y) = (painting.planar(), out.planar());
        x.iter()
            .zip(y)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum::<f64>()
            / painting.pixel_count() as f64
    };
    let (chosen, analogies, choleskys) =
        (moved(None), moved(Some(analogies)), moved(Some(choleskys)));
    println!(
        "mean squared change: Monge–Kantorovich {chosen:.5}, image analogies {analogies:.5}, Cholesky {choleskys:.5}"
    );
    assert!(chosen <= analogies + 1e-9 && chosen <= choleskys + 1e-9);
}

#[test]
fn eigendecomposition_reconstructs_the_matrix() {
    let m = [
        [0.04, 0.01, -0.02],
        [0.01, 0.03, 0.005],
        [-0.02, 0.005, 0.05],
    ];
    let back = power(m, 1.0);
    let root = power(m, 0.5);
    let squared = mul(root, root);
    for r in 0..3 {
        for c in 0..3 {
            assert!((back[r][c] - m[r][c]).abs() < 1e-12, "{back:?}");
            assert!((squared[r][c] - m[r][c]).abs() < 1e-12, "{squared:?}");
        }
    }
}

#[test]
fn a_blend_s_palette_is_that_of_the_pixels_pooled() {
    let (photo, painting) = pictures();
    let photo = photo.resize(80, 80);
    let mut pooled = Vec::new();
    for c in 0..3 {
        let plane = |i: &Image| i.planar()[c * 6400..(c + 1) * 6400].to_vec();
        pooled.extend(plane(&photo));
        pooled.extend(plane(&painting));
    }
    let pooled = Image::from_planar(80, 160, pooled).unwrap();
    let blend = Palette::blend(&[(Palette::of(&photo), 0.5), (Palette::of(&painting), 0.5)]);
    assert_same_palette(&blend, &Palette::of(&pooled), 1e-6);
}

#[test]
fn grey_is_the_luminance_with_the_photo_s_mean_and_spread() {
    let (photo, painting) = pictures();
    let alone = grey(&painting, None);
    let n = alone.pixel_count();
    assert_eq!(&alone.planar()[..n], &luminance(&painting)[..]);
    assert_eq!(&alone.planar()[..n], &alone.planar()[2 * n..]);
    let matched = grey(&painting, Some(&photo));
    let ((m, s), (m_to, s_to)) = (
        mean_and_spread(&matched.planar()[..n]),
        mean_and_spread(&luminance(&photo)),
    );
    assert!(
        (m - m_to).abs() < 1e-5 && (s - s_to).abs() < 1e-5,
        "{m} {s} vs {m_to} {s_to}"
    );
}

fn cholesky(m: Mat3) -> Mat3 {
    let mut l = [[0.0; 3]; 3];
    for r in 0..3 {
        for c in 0..=r {
            let sum: f64 = (0..c).map(|k| l[r][k] * l[c][k]).sum();
            l[r][c] = match r == c {
                true => (m[r][r] - sum).sqrt(),
                false => (m[r][c] - sum) / l[c][c],
            };
        }
    }
    l
}

fn inverse_lower(l: Mat3) -> Mat3 {
    let mut inv = [[0.0; 3]; 3];
    for c in 0..3 {
        inv[c][c] = 1.0 / l[c][c];
        for r in c + 1..3 {
            let sum: f64 = (c..r).map(|k| l[r][k] * inv[k][c]).sum();
            inv[r][c] = -sum / l[r][r];
        }
    }
    inv
}
