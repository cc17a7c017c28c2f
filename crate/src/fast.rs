//! The feed-forward arbitrary-style network of Ghiasi et al. (2017), "Exploring the structure
//! of a real-time, arbitrary neural artistic stylization network" (Magenta's weights): it
//! paints a photo in one pass, the engine's fast start and its Quick mode.
//!
//! Two parts: a style predictor (`fast/predictor.rs`: MobileNet-v2 up to its 1280-channel
//! layer, then a 1×1 convolution to a 100-number style vector) and a transformer
//! (reflect-padded convolutions, three contracting, five residual blocks and three expanding
//! after nearest upsampling, each but the first three followed by a conditional instance
//! norm whose scale and shift are 1×1 convolutions of the style vector; sigmoid output).
//! Plain burn, no autodiff, any backend.
//! Layer names are the original graph's scopes (see `models/README.md`).

use std::collections::BTreeMap;

use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::SafeTensors;

mod predictor;

use predictor::Predictor;
pub use predictor::{STYLE_INPUT_MULTIPLE, STYLE_INPUT_SIDES, style_input_side};

use crate::image::Image;
use crate::weights::{QuantizedConv, WeightsError};

/// Memory of the transformer's pass per pixel, natively on the CPU backend: a process peak of
/// 720 MB at 2048 × 1536 px and 290 MB at 1024 × 768 px, about 150 MB of it the process
/// itself, so about 180 bytes a pixel.
pub const BYTES_PER_PIXEL: u64 = 200;
/// Bytes a pixel of the network's largest buffer: 16 channels in f32 at full resolution
/// (the second expanding convolution's upsampled, reflect-padded input), with room for the
/// padding.
pub const BUFFER_PER_PIXEL: u64 = 16 * 4 + 4;
/// Length of the style vector.
pub const STYLE_DIM: usize = 100;
/// The transformer halves the image twice: its input sides are padded to a multiple of this.
const TRANSFORMER_MULTIPLE: usize = 4;
/// Variance epsilon of the conditional instance norms, as stored in the graph.
const NORM_EPSILON: f32 = 1e-5;

/// The network's int8 convolutions by name, as stored in `models/fast-int8.safetensors`.
#[derive(Debug, Clone, PartialEq)]
pub struct FastWeights {
    convs: BTreeMap<String, QuantizedConv>,
}

impl FastWeights {
    /// Named convolutions, for example from [`crate::onnx::quantized_convs`].
    pub fn from_convs(convs: impl IntoIterator<Item = (String, QuantizedConv)>) -> Self {
        Self {
            convs: convs.into_iter().collect(),
        }
    }

    /// Reads every convolution in the weight file; works on any platform.
    pub fn from_int8_safetensors(bytes: &[u8]) -> Result<Self, WeightsError> {
        let file =
            SafeTensors::deserialize(bytes).map_err(|e| WeightsError::Container(e.to_string()))?;
        let mut names: Vec<&str> = file
            .names()
            .into_iter()
            .filter_map(|n| n.strip_suffix(".weight"))
            .collect();
        names.sort_unstable();
        let convs = names
            .into_iter()
            .map(|name| Ok((name.to_string(), QuantizedConv::read(&file, name)?)))
            .collect::<Result<_, WeightsError>>()?;
        Ok(Self { convs })
    }

    /// The named convolutions, in name order.
    pub fn convs(&self) -> impl Iterator<Item = (&str, &QuantizedConv)> {
        self.convs.iter().map(|(n, c)| (n.as_str(), c))
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.convs
            .values()
            .map(|c| c.weight.len() + c.bias.len())
            .sum()
    }

    fn conv(&self, name: &str, shape: [usize; 4]) -> Result<&QuantizedConv, WeightsError> {
        let conv = self
            .convs
            .get(name)
            .ok_or_else(|| WeightsError::Missing(format!("{name}.weight")))?;
        match conv.shape() == shape {
            true => Ok(conv),
            false => Err(WeightsError::Mismatch {
                name: format!("{name}.weight"),
                expected: format!("I8 {shape:?}"),
                found: format!("I8 {:?}", conv.shape()),
            }),
        }
    }
}

/// One convolution on the device, dequantized.
#[derive(Debug, Clone)]
struct Conv {
    weight: Tensor<4>,
    bias: Tensor<1>,
    stride: usize,
    groups: usize,
}

impl Conv {
    fn new(
        weights: &FastWeights,
        name: &str,
        [out, cin, k]: [usize; 3],
        stride: usize,
        device: &Device,
    ) -> Result<Self, WeightsError> {
        // A depthwise kernel is [channels, 1, k, k]: one group per channel.
        let groups = if cin == 1 && out > 1 { out } else { 1 };
        let q = weights.conv(name, [out, cin, k, k])?;
        Ok(Self {
            weight: Tensor::from_data(TensorData::new(q.dequantized(), q.shape()), device),
            bias: Tensor::from_data(TensorData::new(q.bias.clone(), [out]), device),
            stride,
            groups,
        })
    }

    /// The convolution without padding.
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let options = ConvOptions::new([self.stride; 2], [0, 0], [1, 1], self.groups);
        conv2d(x, self.weight.clone(), Some(self.bias.clone()), options)
    }

    /// TensorFlow's `SAME` padding (zeros, the extra row and column after), then the
    /// convolution.
    fn forward_same(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let k = self.weight.dims()[2];
        let pad = |n: usize| {
            let total = ((n.div_ceil(self.stride) - 1) * self.stride + k).saturating_sub(n);
            (total / 2, total - total / 2)
        };
        self.forward(x.pad([pad(h), pad(w)], PadMode::Constant(0.0)))
    }

    /// Reflection padding of half the kernel, then the convolution (the transformer's).
    fn forward_reflect(&self, x: Tensor<4>) -> Tensor<4> {
        let half = self.weight.dims()[2] / 2;
        self.forward(x.pad([(half, half), (half, half)], PadMode::Reflect))
    }
}

/// A conditional instance norm: per-channel scale and shift computed from the style vector.
#[derive(Debug, Clone)]
struct StyleNorm {
    /// `[channels, 100]` and `[channels]` of the scale's 1×1 convolution.
    scale: (Tensor<2>, Tensor<1>),
    /// The same for the shift.
    shift: (Tensor<2>, Tensor<1>),
}

impl StyleNorm {
    fn new(
        weights: &FastWeights,
        scope: &str,
        channels: usize,
        device: &Device,
    ) -> Result<Self, WeightsError> {
        let linear = |name: &str| -> Result<(Tensor<2>, Tensor<1>), WeightsError> {
            let conv = Conv::new(weights, name, [channels, STYLE_DIM, 1], 1, device)?;
            Ok((conv.weight.reshape([channels, STYLE_DIM]), conv.bias))
        };
        Ok(Self {
            scale: linear(&format!("style_params/{scope}/StyleNorm/Conv_1"))?,
            shift: linear(&format!("style_params/{scope}/StyleNorm/Conv"))?,
        })
    }

    /// # Shapes
    /// `x`: `[1, c, h, w]`, `style`: `[1, 100]` → `[1, c, h, w]`
    fn forward(&self, x: Tensor<4>, style: Tensor<2>) -> Tensor<4> {
        let affine = |(w, b): &(Tensor<2>, Tensor<1>)| {
            let [c, _] = w.dims();
            (style.clone().matmul(w.clone().transpose()) + b.clone().unsqueeze::<2>())
                .reshape([1, c, 1, 1])
        };
        let mean = x.clone().mean_dim(3).mean_dim(2);
        let centred = x - mean;
        let variance = centred.clone().square().mean_dim(3).mean_dim(2);
        let normalised = centred / variance.add_scalar(NORM_EPSILON).sqrt();
        normalised * affine(&self.scale) + affine(&self.shift)
    }
}

/// The transformer: paints a photo with a style vector.
#[derive(Debug, Clone)]
struct Transformer {
    contract: [Conv; 3],
    residual: Vec<[(Conv, StyleNorm); 2]>,
    expand: Vec<(Conv, StyleNorm)>,
}

impl Transformer {
    fn new(weights: &FastWeights, device: &Device) -> Result<Self, WeightsError> {
        let conv = |name: &str, shape: [usize; 3], stride: usize| {
            Conv::new(
                weights,
                &format!("transformer/{name}"),
                shape,
                stride,
                device,
            )
        };
        let normed = |name: &str, shape: [usize; 3]| -> Result<(Conv, StyleNorm), WeightsError> {
            let norm = StyleNorm::new(weights, &format!("transformer/{name}"), shape[0], device)?;
            Ok((conv(name, shape, 1)?, norm))
        };
        let residual = (1..=5)
            .map(|r| {
                let block = format!("residual/residual{r}");
                Ok([
                    normed(&format!("{block}/conv1"), [32, 32, 3])?,
                    normed(&format!("{block}/conv2"), [32, 32, 3])?,
                ])
            })
            .collect::<Result<_, WeightsError>>()?;
        Ok(Self {
            contract: [
                conv("contract/conv1", [8, 3, 9], 1)?,
                conv("contract/conv2", [16, 8, 3], 2)?,
                conv("contract/conv3", [32, 16, 3], 2)?,
            ],
            residual,
            expand: vec![
                normed("expand/conv1/conv", [16, 32, 3])?,
                normed("expand/conv2/conv", [8, 16, 3])?,
                normed("expand/conv3/conv", [3, 8, 9])?,
            ],
        })
    }

    /// # Shapes
    /// `content`: `[1, 3, h, w]` with `h`, `w` multiples of 4; `style`: `[1, 100]` →
    /// `[1, 3, h, w]`
    fn forward(&self, content: Tensor<4>, style: Tensor<2>) -> Tensor<4> {
        let mut x = content;
        for conv in &self.contract {
            x = relu(conv.forward_reflect(x));
        }
        for [(conv1, norm1), (conv2, norm2)] in &self.residual {
            let h = relu(norm1.forward(conv1.forward_reflect(x.clone()), style.clone()));
            x = x + norm2.forward(conv2.forward_reflect(h), style.clone());
        }
        let last = self.expand.len() - 1;
        for (i, (conv, norm)) in self.expand.iter().enumerate() {
            if i < last {
                x = relu(norm.forward(conv.forward_reflect(upsample2(x)), style.clone()));
            } else {
                x = sigmoid(norm.forward(conv.forward_reflect(x), style.clone()));
            }
        }
        x
    }
}

/// Nearest-neighbour upsampling by 2.
fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, 2, w, 2])
        .reshape([n, c, 2 * h, 2 * w])
}

/// The feed-forward network on one device.
#[derive(Debug, Clone)]
pub struct FastNetwork {
    predictor: Predictor,
    transformer: Transformer,
    device: Device,
}

impl FastNetwork {
    /// Uploads the weights to `device` (its autodiff setting is removed); a missing or
    /// misshapen convolution is an error.
    pub fn new(weights: &FastWeights, device: &Device) -> Result<Self, WeightsError> {
        let device = device.clone().without_autodiff();
        Ok(Self {
            predictor: Predictor::new(weights, &device)?,
            transformer: Transformer::new(weights, &device)?,
            device,
        })
    }

    /// The style vector of a painting: its centred square at `side × side` (see
    /// [`style_input_side`]).
    ///
    /// # Shapes
    /// → `[1, 100]`
    pub fn style_vector(&self, painting: &Image, side: u32) -> Tensor<2> {
        let square = painting.center_square().resize(side, side);
        self.predict(square.to_tensor(&self.device))
    }

    /// The style predictor on an RGB tensor in `[0, 1]`.
    ///
    /// # Shapes
    /// `[n, 3, h, w]` → `[n, 100]`
    pub fn predict(&self, rgb: Tensor<4>) -> Tensor<2> {
        self.predictor.forward(rgb)
    }

    /// Paints `content` with `style`, at any size: the sides are reflect-padded to a multiple
    /// of 4 and the result cropped back.
    ///
    /// # Shapes
    /// `content`: `[1, 3, h, w]` RGB in `[0, 1]`, `h, w ≥ 5`; `style`: `[1, 100]` →
    /// `[1, 3, h, w]` in `(0, 1)`
    pub fn paint(&self, content: Tensor<4>, style: Tensor<2>) -> Tensor<4> {
        let [_, _, h, w] = content.dims();
        let extra = |n: usize| (0, n.next_multiple_of(TRANSFORMER_MULTIPLE) - n);
        let padded = content.pad([extra(h), extra(w)], PadMode::Reflect);
        self.transformer
            .forward(padded, style)
            .narrow(2, 0, h)
            .narrow(3, 0, w)
    }
}
