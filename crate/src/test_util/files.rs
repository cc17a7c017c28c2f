//! The repository's files and a distance, for the unit tests and (included by path from
//! `crate/tests/common`) the integration tests alike: the including module brings `Image`,
//! `read_image`, `VggWeights` and `FastWeights` into scope.

use std::path::{Path, PathBuf};

use super::{FastWeights, Image, VggWeights, read_image};

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

/// The committed int8 VGG16 weights.
pub fn int8_weights() -> VggWeights {
    let bytes = std::fs::read(root().join("models/vgg16-int8.safetensors")).expect("weights");
    VggWeights::from_int8_safetensors(&bytes).expect("valid weights")
}

/// The committed feed-forward network.
pub fn fast_weights() -> FastWeights {
    let bytes = std::fs::read(root().join("models/fast-int8.safetensors")).expect("weights");
    FastWeights::from_int8_safetensors(&bytes).expect("valid weights")
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
