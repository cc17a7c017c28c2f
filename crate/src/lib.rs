//! Neural style transfer (Gatys, Ecker & Bethge 2016) on [burn], for the browser and the
//! command line.
//!
//! The engine is plain burn: it runs on any burn device (the CPU backend `flex`, or wgpu on
//! Vulkan, Metal or WebGPU) and never reads the device synchronously, so the same code runs
//! unchanged in WebAssembly. The browser surface lives in `web.rs` alone.
//!
//! ```no_run
//! # async fn run(weights: &[u8], fast: &[u8], content: style_transfer::Image, painting: style_transfer::Image)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use style_transfer::{FastWeights, StyleImage, StyleOptions, Stylizer, VggWeights};
//! let weights = VggWeights::from_int8_safetensors(weights)?;
//! // The feed-forward network paints the starting picture (the default `init: "fast"`).
//! let fast = FastWeights::from_int8_safetensors(fast)?;
//! let stylizer = Stylizer::new(&weights, &burn::tensor::Device::flex()).with_fast(&fast)?;
//! let styles = [StyleImage { image: &painting, blend: 1.0, mask: None }];
//! let options = StyleOptions { size: 256, ..Default::default() };
//! let result = stylizer
//!     .stylize(&content, &styles, &options, |p| {
//!         println!("{}/{}: {:?}", p.iteration, p.total, p.losses);
//!         std::ops::ControlFlow::Continue(())
//!     })
//!     .await?;
//! # Ok(()) }
//! ```

// The threaded web module (built on nightly, www/build.mjs) reports failed allocations to the
// page: web.rs, `report_panics_to`.
#![cfg_attr(
    all(feature = "threads", target_family = "wasm"),
    feature(alloc_error_hook)
)]

pub mod color;
pub mod conv3x3;
pub mod device;
mod engine;
pub mod fast;
pub mod frames;
pub mod image;
#[cfg(not(target_family = "wasm"))]
pub mod judge;
pub mod loss;
pub mod mask;
#[cfg(not(target_family = "wasm"))]
pub mod native;
mod objective;
#[cfg(not(target_family = "wasm"))]
pub mod onnx;
pub mod optim;
pub mod options;
pub mod palette;
pub mod profile;
pub mod quantize;
mod random;
pub mod report;
pub mod schedule;
mod start;
mod style;
pub mod tiles;
pub mod vgg;
mod warm;
pub mod weights;

#[cfg(target_family = "wasm")]
mod web;

#[cfg(test)]
mod test_util;

pub use burn;
pub use conv3x3::ConvKernel;
pub use device::DeviceKind;
pub use engine::{Losses, Progress, Rect, StylizeError, Stylized, Stylizer, TileProgress};
pub use fast::{FastNetwork, FastWeights};
pub use frames::FramePainter;
pub use image::{Filter, Image, ImageError};
pub use mask::Mask;
pub use options::{
    Colors, Init, Optimizer, OptionsError, StyleLayerWeights, StyleLoss, StyleOptions,
};
pub use schedule::{ScalePlan, plan};
pub use style::{StyleImage, in_paintings_colors};
pub use vgg::{Padding, Pooling, Vgg16, VggLayer};
pub use weights::{VggWeights, WeightsError};
