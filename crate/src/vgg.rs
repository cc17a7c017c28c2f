//! VGG16 feature extractor (Simonyan & Zisserman 2015) through `conv5_1`.

use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
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

/// VGG16 convolutions through `conv5_1`, as constants on one device.
///
/// The parameters are plain tensors on a device without autodiff, so they never require
/// gradients: when an input lives on an autodiff device, burn treats them as constants.
#[derive(Debug, Clone)]
pub struct Vgg16 {
    convs: Vec<Conv3x3>,
    mean: Tensor<4>,
    kernel: ConvKernel,
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
            x = conv.forward(x, true);
            for (slot, layer) in found.iter_mut().zip(layers) {
                if layer.index() == i {
                    *slot = Some(x.clone());
                }
            }
            if POOL_AFTER.contains(&i) && i < deepest {
                x = max_pool2d(x, MaxPoolOptions::new([2, 2]).with_stride([2, 2]));
            }
        }
        found
            .into_iter()
            .map(|f| f.expect("every layer up to the deepest was computed"))
            .collect()
    }
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
