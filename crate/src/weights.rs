//! The VGG16 weight file: int8 convolution kernels with one scale per output channel.
//!
//! The file is a plain safetensors container (see `models/README.md`). For each of the eleven
//! layers `conv1_1` … `conv5_1` it holds
//!
//! - `<layer>.weight`: `I8`, shape `[out, in, 3, 3]`, symmetric quantization at the layer's
//!   bit width (`VGG_BITS`);
//! - `<layer>.weight_scale`: `F32`, shape `[out]`: `float = int8 * scale[out]`;
//! - `<layer>.bias`: `F32`, shape `[out]`.
//!
//! Loading dequantizes once, so the network itself runs in `f32`. Quantizing and writing the
//! file: `quantize.rs`.

use safetensors::{Dtype, SafeTensors};

/// The convolution layers of VGG16 that the weight file holds, in network order.
pub const CONV_LAYERS: [&str; 11] = [
    "conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv4_1",
    "conv4_2", "conv4_3", "conv5_1",
];

/// Channel counts `(in, out)` of each layer in [`CONV_LAYERS`].
pub const CONV_CHANNELS: [(usize, usize); 11] = [
    (3, 64),
    (64, 64),
    (64, 128),
    (128, 128),
    (128, 256),
    (256, 256),
    (256, 256),
    (256, 512),
    (512, 512),
    (512, 512),
    (512, 512),
];

/// Why a weight file could not be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WeightsError {
    /// The bytes are not a safetensors container (truncated, empty or another format).
    #[error("the weight file is not a valid safetensors file ({0}); it may be truncated")]
    Container(String),
    /// A tensor the network needs is absent.
    #[error("the weight file has no tensor `{0}`")]
    Missing(String),
    /// A tensor has the wrong element type or shape.
    #[error("tensor `{name}` should be {expected}, found {found}")]
    Mismatch {
        /// Name of the tensor.
        name: String,
        /// What the network needs.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A dequantization scale or bias is not a finite number.
    #[error("tensor `{0}` holds a value that is not finite")]
    NotFinite(String),
}

/// One convolution layer in `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvWeights {
    /// Kernel, row-major `[out, in, 3, 3]`.
    pub weight: Vec<f32>,
    /// Bias, `[out]`.
    pub bias: Vec<f32>,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
}

/// The eleven convolution layers of VGG16 through `conv5_1`, in `f32`, in network order.
#[derive(Debug, Clone, PartialEq)]
pub struct VggWeights {
    /// One entry per name in [`CONV_LAYERS`].
    pub layers: Vec<ConvWeights>,
}

impl VggWeights {
    /// Reads and dequantizes the int8 weight file (`models/vgg16-int8.safetensors`).
    ///
    /// Works on any platform: it takes the file's bytes, not a path.
    pub fn from_int8_safetensors(bytes: &[u8]) -> Result<Self, WeightsError> {
        let file =
            SafeTensors::deserialize(bytes).map_err(|e| WeightsError::Container(e.to_string()))?;
        let layers = CONV_LAYERS
            .iter()
            .zip(CONV_CHANNELS)
            .map(|(name, (cin, cout))| {
                let q = QuantizedConv::read(&file, name)?;
                if q.shape() != [cout, cin, 3, 3] {
                    let view = file.tensor(&format!("{name}.weight")).expect("just read");
                    return Err(mismatch(
                        &format!("{name}.weight"),
                        &format!("I8 {:?}", [cout, cin, 3, 3]),
                        &view,
                    ));
                }
                Ok(q)
            })
            .collect::<Result<Vec<_>, WeightsError>>()?;
        Ok(Self::dequantized(&layers))
    }

    /// The float network of quantized layers (VGG16's 3×3 kernels, in [`CONV_LAYERS`] order).
    pub fn dequantized(layers: &[QuantizedConv]) -> Self {
        let layers = layers
            .iter()
            .map(|q| ConvWeights {
                weight: q.dequantized(),
                bias: q.bias.clone(),
                in_channels: q.in_channels,
                out_channels: q.out_channels,
            })
            .collect();
        Self { layers }
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weight.len() + l.bias.len())
            .sum()
    }
}

/// A convolution quantized to int8 with one scale per output channel (VGG16's, and the
/// feed-forward network's).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedConv {
    /// Quantized kernel, `[out, in, k, k]`, values in `-127..=127`.
    pub weight: Vec<i8>,
    /// Scale per output channel: `float = int8 * scale`.
    pub scale: Vec<f32>,
    /// Bias, kept in `f32`.
    pub bias: Vec<f32>,
    /// Input channels (per group, for a grouped convolution).
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Side of the square kernel.
    pub kernel_size: usize,
}

impl QuantizedConv {
    /// The kernel's shape, `[out, in, k, k]`.
    pub fn shape(&self) -> [usize; 4] {
        let k = self.kernel_size;
        [self.out_channels, self.in_channels, k, k]
    }

    /// The kernel in `f32`: `int8 × scale[out]`.
    pub fn dequantized(&self) -> Vec<f32> {
        let per_out = self.weight.len() / self.out_channels.max(1);
        self.weight
            .iter()
            .enumerate()
            .map(|(i, &q)| f32::from(q) * self.scale[i / per_out])
            .collect()
    }

    /// Reads `<name>.weight`, `<name>.weight_scale` and `<name>.bias`, whatever the kernel's
    /// shape, as long as it is `[out, in, k, k]`.
    pub(crate) fn read(file: &SafeTensors<'_>, name: &str) -> Result<Self, WeightsError> {
        let weight_name = format!("{name}.weight");
        let view = file
            .tensor(&weight_name)
            .map_err(|_| WeightsError::Missing(weight_name.clone()))?;
        let &[out_channels, in_channels, k, k2] = view.shape() else {
            return Err(mismatch(&weight_name, "I8 [out, in, k, k]", &view));
        };
        if view.dtype() != Dtype::I8 || k != k2 {
            return Err(mismatch(&weight_name, "I8 [out, in, k, k]", &view));
        }
        Ok(Self {
            weight: view.data().iter().map(|&b| b as i8).collect(),
            scale: read_f32(file, &format!("{name}.weight_scale"), out_channels)?,
            bias: read_f32(file, &format!("{name}.bias"), out_channels)?,
            in_channels,
            out_channels,
            kernel_size: k,
        })
    }
}

fn mismatch(
    name: &str,
    expected: &str,
    view: &safetensors::tensor::TensorView<'_>,
) -> WeightsError {
    WeightsError::Mismatch {
        name: name.to_string(),
        expected: expected.to_string(),
        found: format!("{:?} {:?}", view.dtype(), view.shape()),
    }
}

fn read_f32(file: &SafeTensors<'_>, name: &str, len: usize) -> Result<Vec<f32>, WeightsError> {
    let view = file
        .tensor(name)
        .map_err(|_| WeightsError::Missing(name.to_string()))?;
    if view.dtype() != Dtype::F32 || view.shape() != [len] {
        return Err(mismatch(name, &format!("F32 [{len}]"), &view));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if values.iter().all(|v| v.is_finite()) {
        Ok(values)
    } else {
        Err(WeightsError::NotFinite(name.to_string()))
    }
}

#[cfg(test)]
mod tests;
