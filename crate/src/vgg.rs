//! VGG16 feature extractor (Simonyan & Zisserman 2015) through `conv5_1`.

use burn::tensor::module::{avg_pool2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};

use crate::conv3x3::{Conv3x3, ConvKernel};
use crate::weights::{CONV_LAYERS, VggWeights};

/// ImageNet mean in BGR order, 0–255 scale (the Caffe / Keras VGG convention).
pub const MEAN_BGR: [f32; 3] = [103.939, 116.779, 123.68];

/// Indices in [`CONV_LAYERS`] after which VGG16 max-pools.
const POOL_AFTER: [usize; 4] = [1, 3, 6, 9];

/// A ReLU output of VGG16 that losses can read; named `relu1_1` … `relu5_1` in options.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum VggLayer {
    Relu1_1,
    Relu1_2,
    Relu2_1,
    Relu2_2,
    Relu3_1,
    Relu3_2,
    Relu3_3,
    Relu4_1,
    Relu4_2,
    Relu4_3,
    Relu5_1,
}

impl VggLayer {
    /// Every layer, in network order.
    pub const ALL: [VggLayer; 11] = [
        Self::Relu1_1,
        Self::Relu1_2,
        Self::Relu2_1,
        Self::Relu2_2,
        Self::Relu3_1,
        Self::Relu3_2,
        Self::Relu3_3,
        Self::Relu4_1,
        Self::Relu4_2,
        Self::Relu4_3,
        Self::Relu5_1,
    ];

    /// Position of the convolution this ReLU follows, in [`CONV_LAYERS`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The conventional name, for example `relu4_2`.
    pub fn name(self) -> String {
        CONV_LAYERS[self.index()].replace("conv", "relu")
    }

    /// Channels of this layer's activations: 64, doubling at each pooling up to 512.
    pub fn channels(self) -> usize {
        (64 * self.downsampling()).min(512)
    }

    /// How many times the input has been halved before this layer.
    pub fn downsampling(self) -> usize {
        1 << POOL_AFTER.iter().filter(|&&p| p < self.index()).count()
    }
}

/// How the first convolution sees past the image's edge (crowsonkb/style-transfer-pytorch
/// pads it by replication against dark or bright frames). The deeper convolutions pad with
/// zeros, as the network was trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// Zeros (after the mean is taken away: the mean colour), as VGG16 was trained.
    Zero,
    /// The edge pixels repeated.
    Replicate,
    /// The image mirrored about its edge pixels.
    Reflect,
}

/// How VGG16 halves its feature maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The maximum of each 2 × 2 block, as VGG16 was trained.
    Max,
    /// The mean of each 2 × 2 block, times 2 so that the activations keep about the size
    /// max pooling gives (crowsonkb/style-transfer-pytorch's scale): smoother gradients,
    /// which Gatys et al. 2016 found to give slightly more appealing results.
    Average,
}

/// VGG16 convolutions through `conv5_1`, as constants on one device.
///
/// The parameters are plain tensors on a device without autodiff, so they never require
/// gradients: when an input lives on an autodiff device, burn treats them as constants.
#[derive(Debug, Clone)]
pub struct Vgg16 {
    convs: Vec<Conv3x3>,
    mean: Tensor<4>,
    kernel: ConvKernel,
    padding: Padding,
    pooling: Pooling,
}

impl Vgg16 {
    /// Uploads the weights to `device` (its autodiff setting is removed), for the device's
    /// default kernel ([`ConvKernel::default_for`]).
    pub fn new(weights: &VggWeights, device: &Device) -> Self {
        Self::with_kernel(weights, device, ConvKernel::default_for(device))
    }

    /// Uploads the weights to `device` for `kernel`.
    ///
    /// # Panics
    /// If `kernel` cannot run on `device` ([`ConvKernel::runs_on`]).
    pub fn with_kernel(weights: &VggWeights, device: &Device, kernel: ConvKernel) -> Self {
        let device = device.clone().without_autodiff();
        let convs = weights
            .layers
            .iter()
            .map(|l| {
                let shape = [l.out_channels, l.in_channels, 3, 3];
                let w = Tensor::from_data(TensorData::new(l.weight.clone(), shape), &device);
                let b =
                    Tensor::from_data(TensorData::new(l.bias.clone(), [l.out_channels]), &device);
                Conv3x3::new(w, b, kernel)
            })
            .collect();
        let mean = Tensor::from_data(TensorData::new(MEAN_BGR.to_vec(), [1, 3, 1, 1]), &device);
        Self {
            convs,
            mean,
            kernel,
            padding: Padding::Zero,
            pooling: Pooling::Max,
        }
    }

    /// The same network (sharing its weights) with `padding` on the first convolution and
    /// `pooling`.
    pub fn with_architecture(&self, padding: Padding, pooling: Pooling) -> Self {
        Self {
            padding,
            pooling,
            ..self.clone()
        }
    }

    /// The kernel the convolutions run on.
    pub fn kernel(&self) -> ConvKernel {
        self.kernel
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.mean.device()
    }

    /// Converts RGB in `[0, 1]` to the network's input: BGR, 0–255, minus [`MEAN_BGR`].
    ///
    /// # Shapes
    /// `[n, 3, h, w]` → `[n, 3, h, w]`
    pub fn preprocess(&self, rgb: Tensor<4>) -> Tensor<4> {
        let bgr = Tensor::cat(
            vec![
                rgb.clone().narrow(1, 2, 1),
                rgb.clone().narrow(1, 1, 1),
                rgb.narrow(1, 0, 1),
            ],
            1,
        );
        bgr.mul_scalar(255.0) - self.mean.clone()
    }

    /// The ReLU outputs named in `layers`, in that order, for an RGB image in `[0, 1]`.
    ///
    /// Runs the network only as deep as the deepest layer asked for.
    ///
    /// # Shapes
    /// `rgb`: `[n, 3, h, w]`; each output: `[n, c, h / d, w / d]` with `d` =
    /// [`VggLayer::downsampling`] (rounded down at each pooling).
    pub fn features(&self, rgb: Tensor<4>, layers: &[VggLayer]) -> Vec<Tensor<4>> {
        let Some(deepest) = layers.iter().map(|l| l.index()).max() else {
            return Vec::new();
        };
        let mut found: Vec<Option<Tensor<4>>> = vec![None; layers.len()];
        let mut x = self.preprocess(rgb);
        for (i, conv) in self.convs.iter().enumerate().take(deepest + 1) {
            x = match (i, self.padding) {
                (0, Padding::Replicate | Padding::Reflect) => {
                    let [_, _, h, w] = x.dims();
                    let padded = pad_edges(x, self.padding);
                    conv.forward(padded, true).narrow(2, 1, h).narrow(3, 1, w)
                }
                _ => conv.forward(x, true),
            };
            for (slot, layer) in found.iter_mut().zip(layers) {
                if layer.index() == i {
                    *slot = Some(x.clone());
                }
            }
            if POOL_AFTER.contains(&i) && i < deepest {
                x = pool(x, self.pooling);
            }
        }
        found
            .into_iter()
            .map(|f| f.expect("every layer up to the deepest was computed"))
            .collect()
    }
}

/// `x` halved by `pooling`.
fn pool(x: Tensor<4>, pooling: Pooling) -> Tensor<4> {
    match pooling {
        Pooling::Max => max_pool2d(x, MaxPoolOptions::new([2, 2]).with_stride([2, 2])),
        Pooling::Average => {
            avg_pool2d(x, AvgPoolOptions::new([2, 2]).with_stride([2, 2])).mul_scalar(2.0)
        }
    }
}

/// `x` with one more row and column on every side, replicated or reflected from the edge
/// (a convolution with zero padding over it, cropped by one pixel, pads the original so).
fn pad_edges(x: Tensor<4>, padding: Padding) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    // The source of the outer ring: the edge itself, or its neighbour inside.
    let inner = |n: usize| match padding {
        Padding::Reflect if n > 1 => 1,
        _ => 0,
    };
    let (dy, dx) = (inner(h), inner(w));
    let x = Tensor::cat(
        vec![
            x.clone().narrow(2, dy, 1),
            x.clone(),
            x.narrow(2, h - 1 - dy, 1),
        ],
        2,
    );
    Tensor::cat(
        vec![
            x.clone().narrow(3, dx, 1),
            x.clone(),
            x.narrow(3, w - 1 - dx, 1),
        ],
        3,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_are_the_options_names() {
        // The options read layers through serde: its names and `name()` are one.
        for layer in VggLayer::ALL {
            let named = serde_json::Value::String(layer.name());
            assert_eq!(serde_json::to_value(layer).unwrap(), named);
            assert_eq!(serde_json::from_value::<VggLayer>(named).unwrap(), layer);
        }
        assert_eq!(VggLayer::Relu4_2.name(), "relu4_2");
        assert!(serde_json::from_str::<VggLayer>("\"relu6_1\"").is_err());
    }

    fn tensor(values: Vec<f32>, shape: [usize; 4]) -> Tensor<4> {
        Tensor::from_data(TensorData::new(values, shape), &crate::test_util::cpu())
    }

    #[test]
    fn edges_pad_by_replication_or_reflection() {
        let x = tensor((1..=6).map(|v| v as f32).collect(), [1, 1, 2, 3]);
        // [[1, 2, 3], [4, 5, 6]]
        let replicated = crate::test_util::read(pad_edges(x.clone(), Padding::Replicate));
        #[rustfmt::skip]
        assert_eq!(replicated, [
            1., 1., 2., 3., 3.,
            1., 1., 2., 3., 3.,
            4., 4., 5., 6., 6.,
            4., 4., 5., 6., 6.,
        ]);
        let reflected = crate::test_util::read(pad_edges(x, Padding::Reflect));
        #[rustfmt::skip]
        assert_eq!(reflected, [
            5., 4., 5., 6., 5.,
            2., 1., 2., 3., 2.,
            5., 4., 5., 6., 5.,
            2., 1., 2., 3., 2.,
        ]);
    }

    /// The gradient through the padding folds the ring back onto the edge it came from:
    /// for `⟨w, pad(x)⟩`, each pixel gets its own weight plus those of its copies.
    #[test]
    fn the_padding_s_gradient_folds_the_ring_back() {
        let w: Vec<f32> = (0..20).map(|v| v as f32).collect();
        let weights = tensor(w.clone(), [1, 1, 4, 5]);
        for padding in [Padding::Replicate, Padding::Reflect] {
            let x = tensor(vec![0.0; 6], [1, 1, 2, 3]).autodiff().require_grad();
            let loss = (pad_edges(x.clone(), padding) * weights.clone()).sum();
            let got = crate::test_util::read(x.grad(&loss.backward()).unwrap());
            // Where each padded position's value comes from, as an index into x.
            let source = |r: usize, c: usize| {
                let pick = |i: usize, n: usize| match (i, padding) {
                    (0, Padding::Replicate) => 0,
                    (0, _) => 1,
                    (i, Padding::Replicate) if i == n + 1 => n - 1,
                    (i, _) if i == n + 1 => n - 2,
                    (i, _) => i - 1,
                };
                pick(r, 2) * 3 + pick(c, 3)
            };
            let mut expected = [0.0f32; 6];
            for r in 0..4 {
                for c in 0..5 {
                    expected[source(r, c)] += w[r * 5 + c];
                }
            }
            assert_eq!(got, expected, "{padding:?}");
        }
    }

    #[test]
    fn average_pooling_keeps_the_activations_size() {
        let x = tensor(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
        assert_eq!(crate::test_util::read(pool(x.clone(), Pooling::Max)), [4.0]);
        // The mean 2.5, times 2.
        assert_eq!(crate::test_util::read(pool(x, Pooling::Average)), [5.0]);
    }

    /// On a uniform image, the first convolution's activations are uniform to the edge with
    /// replicated or reflected padding; zero padding (the mean colour outside) makes a frame.
    #[test]
    fn edge_padding_leaves_no_frame_on_a_uniform_image() {
        let vgg = Vgg16::new(&crate::test_util::int8_weights(), &crate::test_util::cpu());
        let image = tensor(
            [0.9f32, 0.3, 0.1]
                .iter()
                .flat_map(|&v| vec![v; 64])
                .collect(),
            [1, 3, 8, 8],
        );
        let spread = |padding| {
            let f = vgg
                .with_architecture(padding, Pooling::Max)
                .features(image.clone(), &[VggLayer::Relu1_1])
                .remove(0);
            let [_, c, h, w] = f.dims();
            let f: Tensor<2> = f.reshape([c, h * w]);
            crate::test_util::read((f.clone().max_dim(1) - f.min_dim(1)).max())[0]
        };
        let (zero, replicate, reflect) = (
            spread(Padding::Zero),
            spread(Padding::Replicate),
            spread(Padding::Reflect),
        );
        println!(
            "relu1_1 spread over positions: zero {zero}, replicate {replicate}, reflect {reflect}"
        );
        assert!(zero > 10.0);
        assert!(replicate < 1e-3 && reflect < 1e-3);
    }

    #[test]
    fn downsampling_follows_the_pools() {
        assert_eq!(VggLayer::Relu1_2.downsampling(), 1);
        assert_eq!(VggLayer::Relu2_1.downsampling(), 2);
        assert_eq!(VggLayer::Relu3_1.downsampling(), 4);
        assert_eq!(VggLayer::Relu4_2.downsampling(), 8);
        assert_eq!(VggLayer::Relu5_1.downsampling(), 16);
        let channels = VggLayer::ALL.map(|l| l.channels());
        assert_eq!(
            channels,
            [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512]
        );
    }
}
