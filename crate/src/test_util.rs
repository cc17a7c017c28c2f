//! Helpers shared by the unit tests.

use burn::tensor::{Device, Tensor};

use crate::fast::FastWeights;
use crate::image::Image;
use crate::native::read_image;
use crate::weights::{CONV_CHANNELS, ConvWeights, VggWeights};

mod files;
pub use files::{fast_weights, fixture, int8_weights, relative_error};

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
