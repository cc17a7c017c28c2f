//! What the command-line tools share: files in and out, and choosing a device.

use std::path::Path;

use burn::tensor::Device;

use crate::image::Image;

/// A file that could not be turned into an [`Image`].
#[derive(Debug, thiserror::Error)]
#[error("cannot read image {path}: {reason}")]
pub struct ReadImageError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

/// Decodes a JPEG, PNG or WebP file; grey, 16-bit, CMYK and transparent images become RGB
/// (transparency composited over white).
pub fn read_image(path: &Path) -> Result<Image, ReadImageError> {
    let error = |reason: String| ReadImageError {
        path: path.display().to_string(),
        reason,
    };
    let decoded = image::ImageReader::open(path)
        .map_err(|e| error(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| error(e.to_string()))?
        .decode()
        .map_err(|e| error(e.to_string()))?
        .to_rgba8();
    Image::from_rgba8(decoded.width(), decoded.height(), decoded.as_raw())
        .map_err(|e| error(e.to_string()))
}

/// Writes an 8-bit RGB PNG (or any format the file name's extension names).
pub fn write_image(path: &Path, image: &Image) -> Result<(), String> {
    image::save_buffer(
        path,
        &image.to_rgb8(),
        image.width(),
        image.height(),
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Which burn backend runs the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// wgpu (Vulkan, Metal or DirectX natively).
    Gpu,
    /// burn's CPU backend, `flex`.
    Cpu,
}

/// The device for `backend`; for the GPU, an error when no adapter is found.
pub fn device(backend: Backend) -> Result<Device, String> {
    match backend {
        Backend::Cpu => Ok(Device::flex()),
        Backend::Gpu => Device::wgpu_options()
            .init()
            .map_err(|e| format!("no usable GPU ({e}); try --backend cpu")),
    }
}
