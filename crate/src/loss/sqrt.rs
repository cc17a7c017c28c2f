//! Square roots of symmetric positive semi-definite matrices on the device, by matrix
//! products alone (no eigendecomposition in burn, and none needed on a GPU).

use burn::tensor::Tensor;

/// `(B^½, B^-½)` of `B = A + δI`, for a symmetric positive semi-definite `[c, c]` matrix `A`
/// and a shift `δ` (`[1, 1]`, on the device), by the coupled Newton–Schulz iteration
/// (Higham, "Functions of Matrices", 2008, eq. 6.35): `Y₀ = B / s`, `Z₀ = I`,
/// `T = (3I − Z Y) / 2`, `Y ← Y T`, `Z ← T Z`, with `s` the Frobenius norm of `B`, so every
/// eigenvalue of `B / s` lies in `(0, 1]` where the iteration converges; then `Y √s → B^½`
/// and `Z / √s → B^-½`.
///
/// An eigenvalue `λ` of `B / s` has converged once `1.5^k · λ` passes `√λ`. The shift keeps
/// every eigenvalue at least `δ / s`: above f32's rounding of `A` (whose small negative
/// eigenvalues would make the iteration diverge), and within reach of `k` iterations
/// ([`shift`] picks it). The norm is floored at [`NORM_FLOOR`] for a matrix of zeros.
pub(crate) fn sqrt_psd(
    a: Tensor<2>,
    shift: Tensor<2>,
    iterations: usize,
) -> (Tensor<2>, Tensor<2>) {
    let [c, _] = a.dims();
    let identity = Tensor::<2>::eye(c, &a.device());
    let b = a + identity.clone() * shift;
    let norm = b.clone().square().sum().sqrt().clamp_min(NORM_FLOOR);
    let norm: Tensor<2> = norm.reshape([1, 1]);
    let mut y = b / norm.clone();
    let mut z = identity.clone();
    for _ in 0..iterations {
        let t = (identity.clone().mul_scalar(3.0) - z.clone().matmul(y.clone())).mul_scalar(0.5);
        y = y.matmul(t.clone());
        z = t.matmul(z);
    }
    let root = norm.sqrt();
    (y * root.clone(), z / root)
}

/// The shift for [`sqrt_psd`] of matrices like `m` (`[1, 1]`): [`RELATIVE_SHIFT`] of its
/// Frobenius norm, plus [`ABSOLUTE_SHIFT`] for a matrix of (near) zeros. With it, every
/// eigenvalue converges within [`ITERATIONS`].
pub(crate) fn shift(m: &Tensor<2>) -> Tensor<2> {
    let norm = m.clone().square().sum().sqrt();
    norm.mul_scalar(RELATIVE_SHIFT)
        .add_scalar(ABSOLUTE_SHIFT)
        .reshape([1, 1])
}

/// Shifts are this much of the matrix's norm: far above f32's rounding (about 1e-7 of it,
/// times √c), and small enough that every eigenvalue the loss can see converges.
pub(crate) const RELATIVE_SHIFT: f32 = 1e-4;
/// Newton–Schulz iterations: `1.5^k · λ > √λ` for every `λ ≥ RELATIVE_SHIFT` after 12
/// (`1.5^12 ≈ 130 > 100`), and four more of quadratic convergence bring `A^-½` (the
/// gradient) to f32 precision (measured: `‖B^-½ B^½ − I‖` 0.1 after 13, 1.5e-5 after 16).
pub(crate) const ITERATIONS: usize = 16;
/// Covariances of VGG16's activations on the 0–255 scale have norms of thousands and more;
/// one below this is a map of a single position or a flat image.
const NORM_FLOOR: f32 = 1.0;
/// The shift's absolute part, in the matrix's units (squared activations for a covariance):
/// above the rounding of a one-position covariance (`f·fᵀ − f·fᵀ`, about 1e-7 of
/// activations of hundreds squared), far below any variance that shows.
const ABSOLUTE_SHIFT: f32 = 0.1;

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;
    use crate::random::SplitMix64;
    use crate::test_util::{cpu, read};

    /// `Q diag(λ) Qᵀ` with `Q` a product of Householder reflections (orthogonal by
    /// construction), as `[c, c]` values.
    fn with_eigenvalues(eigenvalues: &[f64], seed: u64) -> Vec<f64> {
        let c = eigenvalues.len();
        let mut random = SplitMix64::new(seed);
        let mut q = vec![0.0f64; c * c];
        for i in 0..c {
            q[i * c + i] = 1.0;
        }
        for _ in 0..4 {
            let v: Vec<f64> = (0..c).map(|_| f64::from(random.uniform()) - 0.5).collect();
            let norm2: f64 = v.iter().map(|x| x * x).sum();
            // q ← (I − 2 v vᵀ / |v|²) q
            for j in 0..c {
                let dot: f64 = (0..c).map(|i| v[i] * q[i * c + j]).sum();
                for i in 0..c {
                    q[i * c + j] -= 2.0 * v[i] * dot / norm2;
                }
            }
        }
        let mut a = vec![0.0f64; c * c];
        for i in 0..c {
            for j in 0..c {
                a[i * c + j] = (0..c)
                    .map(|k| q[i * c + k] * eigenvalues[k] * q[j * c + k])
                    .sum();
            }
        }
        a
    }

    fn tensor(values: &[f64], c: usize) -> Tensor<2> {
        let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        Tensor::from_data(TensorData::new(values, [c, c]), &cpu())
    }

    /// A spectrum like a feature covariance's: falling by a factor of ten every eight
    /// eigenvalues, with a few exact zeros (fewer positions than channels). After
    /// [`ITERATIONS`] the root is `Q diag(√(λ + δ)) Qᵀ` and the inverse root its inverse to
    /// f32 precision. The shift lifts the trace of the root by a few percent, nearly all from
    /// the eigenvalues below it: the loss sees directions of tiny variance softly.
    #[test]
    fn newton_schulz_roots_a_falling_spectrum() {
        let c = 48;
        let eigenvalues: Vec<f64> = (0..c)
            .map(|i| match i >= 44 {
                true => 0.0,
                false => 3e4 * 10f64.powf(-(i as f64) / 8.0),
            })
            .collect();
        let a = tensor(&with_eigenvalues(&eigenvalues, 7), c);
        let delta = f64::from(read(shift(&a))[0]);
        let shifted: Vec<f64> = eigenvalues.iter().map(|l| (l + delta).sqrt()).collect();
        let exact_root = with_eigenvalues(&shifted, 7);

        let (root, inverse) = sqrt_psd(a, shift_of(delta), ITERATIONS);
        let got = read(root.clone());
        let error: f64 = got
            .iter()
            .zip(&exact_root)
            .map(|(g, e)| (f64::from(*g) - e).powi(2))
            .sum();
        let norm: f64 = exact_root.iter().map(|e| e * e).sum();
        println!("root relative error {:.2e}", (error / norm).sqrt());
        assert!((error / norm).sqrt() < 1e-3);
        let product = read(inverse.matmul(root.clone()));
        let off: f64 = (0..c * c)
            .map(|k| (f64::from(product[k]) - f64::from(u8::from(k % (c + 1) == 0))).powi(2))
            .sum();
        println!("|B^-½ B^½ - I| = {:.2e}", off.sqrt());
        assert!(off.sqrt() < 1e-2);

        let trace: f64 = (0..c).map(|i| f64::from(got[i * c + i])).sum();
        let unshifted: f64 = eigenvalues.iter().map(|l| l.sqrt()).sum();
        println!("trace of the root {trace:.3}, unshifted {unshifted:.3}");
        assert!(trace > unshifted && trace < 1.05 * unshifted);
    }

    /// A matrix of rounding noise (a one-position covariance: `f·fᵀ − f·fᵀ`), with
    /// eigenvalues of both signs, still gives finite roots.
    #[test]
    fn rounding_noise_does_not_diverge() {
        let c = 16;
        let mut random = SplitMix64::new(3);
        let mut noise = vec![0.0f64; c * c];
        for i in 0..c {
            for j in 0..=i {
                let v = f64::from(random.uniform() - 0.5) * 1e-3;
                (noise[i * c + j], noise[j * c + i]) = (v, v);
            }
        }
        let a = tensor(&noise, c);
        let (root, inverse) = sqrt_psd(a.clone(), shift(&a), ITERATIONS);
        assert!(
            read(root)
                .iter()
                .chain(&read(inverse))
                .all(|v| v.is_finite())
        );
    }

    fn shift_of(delta: f64) -> Tensor<2> {
        Tensor::from_data(TensorData::new(vec![delta as f32], [1, 1]), &cpu())
    }
}
