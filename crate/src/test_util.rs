//! Helpers shared by the unit tests.

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use burn::tensor::{Device, Tensor};

use crate::fast::FastWeights;
use crate::image::Image;
use crate::native::read_image;
use crate::random::SplitMix64;
use crate::weights::{CONV_CHANNELS, ConvWeights, VggWeights};

mod files;
pub use files::{fast_weights, fixture, int8_weights, relative_error, root};

/// burn's CPU backend.
pub fn cpu() -> Device {
    Device::flex()
}

/// Reads a tensor's values (the tests run natively, where blocking is fine).
pub fn read<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    pollster::block_on(tensor.into_data_async())
        .unwrap()
        .try_into_vec::<f32>()
        .unwrap()
}

/// Asserts `|a - b| ≤ tolerance · max(1, |b|)`.
#[track_caller]
pub fn close(a: f32, b: f32, tolerance: f32) {
    assert!(
        (a - b).abs() <= tolerance * b.abs().max(1.0),
        "{a} is not within {tolerance} of {b}"
    );
}

/// The seeded generator of the randomized tests, so that a failure names a case that
/// reproduces.
pub struct Random(SplitMix64);

impl Random {
    /// The cases of `seed`.
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }

    /// One of `values`.
    pub fn pick<T: Clone>(&mut self, values: &[T]) -> T {
        values[self.below(values.len())].clone()
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.0.next_u64() % 100 < percent
    }
}

/// Runs one case of a randomized test; a panic inside fails the test with `case` (its seed
/// and index, and what it was) in the message, instead of an anonymous unwrap.
#[track_caller]
pub fn no_panic<T>(case: impl Display, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("{case}: panicked: {message}")
        }
    }
}

/// A tiny synthetic network with a recognisable pattern in every layer.
pub fn synthetic_vgg() -> VggWeights {
    let layers = CONV_CHANNELS
        .iter()
        .enumerate()
        .map(|(l, &(cin, cout))| ConvWeights {
            weight: (0..cout * cin * 9)
                .map(|i| ((i * 7 + l) % 23) as f32 * 0.01 - 0.11)
                .collect(),
            bias: (0..cout).map(|o| o as f32 * 0.5 - 3.0).collect(),
            in_channels: cin,
            out_channels: cout,
        })
        .collect();
    VggWeights { layers }
}

#[cfg(feature = "gpu")]
pub use crate::native::test_gpu as gpu;
