//! Helpers shared by the unit tests.

use burn::tensor::{Device, Tensor};

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
