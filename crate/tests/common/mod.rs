//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use style_transfer::burn::tensor::{Device, Tensor};
use style_transfer::native::read_image;
use style_transfer::{FastWeights, Image, VggWeights};

/// `root`, `fixture`, `int8_weights`, `fast_weights`, `relative_error`: the unit tests' own.
#[path = "../../src/test_util/files.rs"]
mod files;
pub use files::*;

/// A file that `tests/fetch-fixtures.sh` downloaded and named in the environment variable
/// `var`.
pub fn downloaded(var: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "{var} is not set: run the tests through tests/run.sh, or run \
             tests/fetch-fixtures.sh and export the paths it prints"
        )
    });
    assert!(path.is_file(), "{var}={} is not a file", path.display());
    path
}

/// The float ONNX network.
pub fn onnx_path() -> PathBuf {
    downloaded("VGG16_ONNX")
}

/// The Python with numpy, onnx and onnxruntime that `tests/fetch-fixtures.sh` prepared.
pub fn reference_python() -> String {
    std::env::var("REFERENCE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// burn's CPU backend.
pub fn cpu() -> Device {
    Device::flex()
}

/// The wgpu device the tests share ([`style_transfer::native::test_gpu`]).
pub fn gpu() -> Option<Device> {
    style_transfer::native::test_gpu()
}

/// Reads a tensor (natively, blocking is fine).
pub fn read<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    pollster::block_on(tensor.into_data_async())
        .expect("device read")
        .try_into_vec::<f32>()
        .expect("f32 tensor")
}

/// Runs a weight converter (`bin`, given `inputs` and an output path) and checks that it
/// writes the committed file `models/<committed>` byte for byte.
pub fn assert_regenerates(bin: &str, inputs: &[PathBuf], committed: &str) {
    let out = std::env::temp_dir().join(format!("{}-{committed}", std::process::id()));
    let status = std::process::Command::new(bin)
        .args(inputs)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "{bin} failed");
    let regenerated = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).ok();
    let expected = std::fs::read(root().join("models").join(committed)).unwrap();
    assert!(
        regenerated == expected,
        "models/{committed} differs from a fresh run of {bin}"
    );
}
