//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use style_transfer::burn::tensor::{Device, Tensor};
use style_transfer::native::read_image;
use style_transfer::{FastWeights, Image, VggWeights};

/// The repository root, read at run time: a path compiled in would follow the shared build
/// cache to whichever clone built it last.
pub fn root() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo");
    Path::new(&crate_dir).join("..")
}

/// A committed test image from `tests/fixtures/`.
pub fn fixture(name: &str) -> Image {
    read_image(&root().join("tests/fixtures").join(name)).expect("fixture decodes")
}

/// The committed int8 weights.
pub fn int8_weights() -> VggWeights {
    let bytes = std::fs::read(root().join("models/vgg16-int8.safetensors")).expect("weights");
    VggWeights::from_int8_safetensors(&bytes).expect("valid weights")
}

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

/// The committed feed-forward network.
pub fn fast_weights() -> FastWeights {
    let bytes = std::fs::read(root().join("models/fast-int8.safetensors")).expect("weights");
    FastWeights::from_int8_safetensors(&bytes).expect("valid weights")
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

/// ‖a − b‖ / ‖b‖.
pub fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "shapes differ");
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        diff += (f64::from(*x) - f64::from(*y)).powi(2);
        norm += f64::from(*y).powi(2);
    }
    (diff / norm).sqrt()
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
