//! Colour statistics and colour transfer: an image's colours moved to another palette's mean
//! and covariance (Gatys et al. 2017, §5: colour histogram matching before the transfer), and
//! the luminance-only inputs of their luminance transfer.

// 3 × 3 matrices and RGB triples read best indexed.
#![allow(clippy::needless_range_loop)]

use crate::color::luminance;
use crate::image::Image;

/// A symmetric 3 × 3 matrix, row by row.
type Mat3 = [[f64; 3]; 3];

/// Below this a covariance's eigenvalue counts as this: a flat or one-coloured image has a
/// singular covariance, whose inverse square root is undefined. Only directions in which the
/// image varies by less than f32 rounding reach it, so the moments still match; a real, if
/// small, variation (a near-grey painting's 0.5 % of colour) is stretched to the target's.
const MIN_VARIANCE: f64 = 1e-12;

/// The mean and the covariance of an image's RGB values (or of a blend of images').
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    /// Mean of R, G and B.
    pub mean: [f64; 3],
    /// Covariance of R, G and B (population, 1/n).
    pub covariance: Mat3,
}

impl Palette {
    /// The palette of `image`.
    pub fn of(image: &Image) -> Self {
        let n = image.pixel_count();
        let p = image.planar();
        let pixel = |i: usize| [0, 1, 2].map(|c| f64::from(p[c * n + i]));
        let mut mean = [0.0; 3];
        for i in 0..n {
            let x = pixel(i);
            for c in 0..3 {
                mean[c] += x[c] / n as f64;
            }
        }
        let mut covariance = [[0.0; 3]; 3];
        for i in 0..n {
            let x = pixel(i);
            for a in 0..3 {
                for b in 0..3 {
                    covariance[a][b] += (x[a] - mean[a]) * (x[b] - mean[b]) / n as f64;
                }
            }
        }
        Self { mean, covariance }
    }

    /// The palette of several images' pixels pooled, image `i` taking the share `shares[i]`
    /// (shares summing to 1): the moments of the mixture.
    pub fn blend(parts: &[(Palette, f64)]) -> Self {
        let mut mean = [0.0; 3];
        for (p, share) in parts {
            for c in 0..3 {
                mean[c] += share * p.mean[c];
            }
        }
        let mut covariance = [[0.0; 3]; 3];
        for (p, share) in parts {
            for a in 0..3 {
                for b in 0..3 {
                    covariance[a][b] += share
                        * (p.covariance[a][b] + (p.mean[a] - mean[a]) * (p.mean[b] - mean[b]));
                }
            }
        }
        Self { mean, covariance }
    }
}

/// `image` with its colours moved to `to`: `x' = A (x − μ) + μ_to`, where `A` is the linear
/// map that takes the image's covariance `S` to `to`'s `T` (`A S Aᵀ = T`) moving the colours
/// least: the optimal transport map between the two Gaussians,
/// `A = S^{-1/2} (S^{1/2} T S^{1/2})^{1/2} S^{-1/2}` (the "Monge–Kantorovich linear" transfer
/// of Pitié & Kokaram 2007). Values are not clipped, so the moments match exactly.
pub fn recolor(image: &Image, to: &Palette) -> Image {
    let from = Palette::of(image);
    let s_half = power(from.covariance, 0.5);
    let s_inv_half = power(from.covariance, -0.5);
    let t = power(to.covariance, 1.0);
    let middle = power(mul(mul(s_half, t), s_half), 0.5);
    let a = mul(mul(s_inv_half, middle), s_inv_half);
    apply(image, &from, to, a)
}

/// `x' = a (x − μ_from) + μ_to` for every pixel `x` of `image`.
fn apply(image: &Image, from: &Palette, to: &Palette, a: Mat3) -> Image {
    let n = image.pixel_count();
    let p = image.planar();
    let mut out = vec![0.0; 3 * n];
    for i in 0..n {
        let d = [0, 1, 2].map(|c| f64::from(p[c * n + i]) - from.mean[c]);
        for r in 0..3 {
            let v = to.mean[r] + a[r][0] * d[0] + a[r][1] * d[1] + a[r][2] * d[2];
            out[r * n + i] = v as f32;
        }
    }
    Image::from_planar(image.width(), image.height(), out).expect("the image's own size")
}

/// The luminance of `image` as a grey RGB image, its mean and spread moved to `like`'s
/// luminance when given (Gatys et al. 2017's luminance transfer: the painting's light and
/// dark matched to the photo's before its style is taken).
pub fn grey(image: &Image, like: Option<&Image>) -> Image {
    let y = luminance(image);
    let stats = |v: &[f32]| {
        let (mean, spread) = mean_and_spread(v);
        (mean, spread.max(MIN_VARIANCE.sqrt()))
    };
    let y: Vec<f32> = match like {
        None => y,
        Some(like) => {
            let ((m, s), (m_to, s_to)) = (stats(&y), stats(&luminance(like)));
            y.iter()
                .map(|&v| (m_to + (f64::from(v) - m) * s_to / s) as f32)
                .collect()
        }
    };
    let planes = [y.as_slice(), y.as_slice(), y.as_slice()].concat();
    Image::from_planar(image.width(), image.height(), planes).expect("the image's own size")
}

/// The mean and the standard deviation (population) of `values`.
fn mean_and_spread(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

fn mul(a: Mat3, b: Mat3) -> Mat3 {
    let mut out = [[0.0; 3]; 3];
    for r in 0..3 {
        for c in 0..3 {
            out[r][c] = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    out
}

/// `m^p` for a symmetric `m`, through its eigendecomposition, eigenvalues floored at
/// [`MIN_VARIANCE`].
fn power(m: Mat3, p: f64) -> Mat3 {
    let (values, vectors) = eigen(m);
    let mut out = [[0.0; 3]; 3];
    for (k, value) in values.iter().enumerate() {
        let scaled = value.max(MIN_VARIANCE).powf(p);
        for r in 0..3 {
            for c in 0..3 {
                out[r][c] += scaled * vectors[r][k] * vectors[c][k];
            }
        }
    }
    out
}

/// Eigenvalues and eigenvectors (the columns) of a symmetric 3 × 3 matrix, by cyclic Jacobi
/// rotations (converges in a handful of sweeps at this size).
fn eigen(mut m: Mat3) -> ([f64; 3], Mat3) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        let off = m[0][1].powi(2) + m[0][2].powi(2) + m[1][2].powi(2);
        let scale = m[0][0].powi(2) + m[1][1].powi(2) + m[2][2].powi(2);
        if off <= 1e-30 * scale.max(1e-300) {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if m[p][q] == 0.0 {
                continue;
            }
            let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            // m ← Jᵀ m J, v ← v J, with J the rotation in the (p, q) plane.
            for k in 0..3 {
                let (mkp, mkq) = (m[k][p], m[k][q]);
                m[k][p] = c * mkp - s * mkq;
                m[k][q] = s * mkp + c * mkq;
            }
            for k in 0..3 {
                let (mpk, mqk) = (m[p][k], m[q][k]);
                m[p][k] = c * mpk - s * mqk;
                m[q][k] = s * mpk + c * mqk;
            }
            for row in v.iter_mut() {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    ([m[0][0], m[1][1], m[2][2]], v)
}

#[cfg(test)]
mod tests;
