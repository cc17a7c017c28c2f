//! Helpers shared by the unit tests.

use burn::tensor::{Device, Tensor};

use crate::weights::{CONV_CHANNELS, ConvWeights, VggWeights};

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

/// A wgpu device when an adapter exists (Mesa's lavapipe on the test machines). With
/// `STYLE_TRANSFER_REQUIRE_GPU=1` (set by tests/run.sh, which installs a Vulkan driver) a
/// missing adapter fails the test instead of skipping its wgpu part.
#[cfg(feature = "gpu")]
pub fn gpu() -> Option<Device> {
    // wgpu's runtime is set up once per process; every test shares it.
    static GPU: std::sync::OnceLock<Result<Device, String>> = std::sync::OnceLock::new();
    match GPU.get_or_init(|| Device::wgpu_options().init().map_err(|e| e.to_string())) {
        Ok(device) => Some(device.clone()),
        Err(e) if std::env::var("STYLE_TRANSFER_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("no wgpu adapter, but STYLE_TRANSFER_REQUIRE_GPU=1: {e}")
        }
        Err(e) => {
            eprintln!("skipping the wgpu part: {e}");
            None
        }
    }
}
