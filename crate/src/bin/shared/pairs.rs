//! What the judging tools (`compare`, `short-runs`) share: the engine with its built-in
//! networks, and the photo/painting pairs they are given.

use std::path::{Path, PathBuf};

use style_transfer::burn::tensor::Device;
use style_transfer::native::read_image;
use style_transfer::{FastWeights, Image, StyleImage, Stylizer, VggWeights};

const WEIGHTS: &[u8] = include_bytes!("../../../../models/vgg16-int8.safetensors");
const FAST_WEIGHTS: &[u8] = include_bytes!("../../../../models/fast-int8.safetensors");

/// The engine as the page ships it (int8 VGG16 and the feed-forward network) on `device`.
pub fn shipped_stylizer(device: &Device) -> Stylizer {
    let vgg = VggWeights::from_int8_safetensors(WEIGHTS).expect("valid weights");
    let fast = FastWeights::from_int8_safetensors(FAST_WEIGHTS).expect("valid weights");
    Stylizer::new(&vgg, device)
        .with_fast(&fast)
        .expect("network")
}

/// A photo and a painting, with their files' names.
pub struct Pair {
    pub photo: Image,
    pub painting: Image,
    /// The files' stems, photo first.
    pub names: [String; 2],
}

impl Pair {
    /// The painting as the engine's only style.
    pub fn styles(&self) -> [StyleImage<'_>; 1] {
        [StyleImage {
            image: &self.painting,
            blend: 1.0,
            mask: None,
        }]
    }
}

/// The pairs of `--pair CONTENT STYLE` arguments, read.
pub fn read_pairs(paths: &[PathBuf]) -> Vec<Pair> {
    paths
        .chunks(2)
        .map(|pair| Pair {
            photo: read_image(&pair[0]).expect("content image"),
            painting: read_image(&pair[1]).expect("style image"),
            names: [stem(&pair[0]), stem(&pair[1])],
        })
        .collect()
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}
