//! Making a stylizer (the networks uploaded to a device) and what it holds.

use burn::tensor::Device;

use crate::conv3x3::ConvKernel;
use crate::fast::{FastNetwork, FastWeights};
use crate::options::StyleOptions;
use crate::vgg::Vgg16;
use crate::weights::{VggWeights, WeightsError};

use super::Stylizer;

impl Stylizer {
    /// Uploads the network to `device` (for example `Device::flex()` or a wgpu device), for
    /// the device's faster convolution kernel ([`ConvKernel::default_for`]).
    pub fn new(weights: &VggWeights, device: &Device) -> Self {
        Self::with_kernel(weights, device, ConvKernel::default_for(device))
    }

    /// Uploads the network to `device` for the convolution kernel `kernel`.
    ///
    /// # Panics
    /// If `kernel` cannot run on `device` ([`ConvKernel::runs_on`]).
    pub fn with_kernel(weights: &VggWeights, device: &Device, kernel: ConvKernel) -> Self {
        let device = device.clone().without_autodiff();
        Self {
            vgg: Vgg16::with_kernel(weights, &device, kernel),
            fast: None,
            device,
            max_buffer: None,
        }
    }

    /// Refuses runs that need a buffer over `bytes` ([`StylizeError::TooLarge`](super::StylizeError::TooLarge)) before any
    /// work: a GPU's largest storage buffer (WebGPU's `maxStorageBufferBindingSize` and
    /// `maxBufferSize`, the smaller), past which an allocation would lose the device. `None`
    /// sets no limit, as on the CPU.
    pub fn with_max_buffer(mut self, bytes: Option<u64>) -> Self {
        self.max_buffer = bytes;
        self
    }

    /// Adds the feed-forward network, which [`Init::Fast`](crate::Init::Fast) and Quick mode need.
    pub fn with_fast(mut self, weights: &FastWeights) -> Result<Self, WeightsError> {
        self.fast = Some(FastNetwork::new(weights, &self.device)?);
        Ok(self)
    }

    /// The device this stylizer runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The options a caller leaves out take these: [`StyleOptions::defaults_for`] this
    /// stylizer's kind of device (wgpu's devices are GPUs, whatever runs them).
    pub fn defaults(&self) -> StyleOptions {
        StyleOptions::defaults_for(crate::device::kind(&self.device))
    }

    /// The network.
    pub fn vgg(&self) -> &Vgg16 {
        &self.vgg
    }

    /// The feed-forward network, when loaded.
    pub fn fast(&self) -> Option<&FastNetwork> {
        self.fast.as_ref()
    }
}
