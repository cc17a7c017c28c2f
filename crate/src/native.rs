//! What the command-line tools share: files in and out, and choosing a device.

use std::path::Path;

use burn::tensor::Device;

use crate::image::Image;
use crate::mask::Mask;

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
    let (width, height, rgba) = decode(path)?;
    Image::from_rgba8(width, height, &rgba).map_err(|e| ReadImageError {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Decodes a mask file (a greyscale PNG: white = this painting, or kept; any picture reads as
/// its luminance times its opacity, as [`Mask::from_rgba8`]).
pub fn read_mask(path: &Path) -> Result<Mask, ReadImageError> {
    let (width, height, rgba) = decode(path)?;
    Mask::from_rgba8(width, height, &rgba).map_err(|e| ReadImageError {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// A picture file's width, height and 8-bit RGBA pixels.
fn decode(path: &Path) -> Result<(u32, u32, Vec<u8>), ReadImageError> {
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
    Ok((decoded.width(), decoded.height(), decoded.into_raw()))
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

/// Which burn backend runs the engine (also the binaries' `--backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// A hardware GPU through wgpu when there is one, else burn's CPU backend. A software
    /// Vulkan driver (Mesa's lavapipe) is never taken here: it runs about 50× slower than
    /// the CPU backend.
    Auto,
    /// wgpu (Vulkan, Metal or DirectX natively), whatever adapter it finds, software ones
    /// included.
    Gpu,
    /// burn's CPU backend, `flex`.
    Cpu,
}

/// The device a [`Backend`] resolved to, and a line saying what it is and why.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// The device to run on.
    pub device: Device,
    /// Whether it is the CPU backend (`flex`) rather than wgpu.
    pub cpu: bool,
    /// For people: which backend and adapter, and for `Auto`, why.
    pub description: String,
    /// The GPU's largest buffer in bytes ([`crate::Stylizer::with_max_buffer`]); `None` on
    /// the CPU.
    pub max_buffer: Option<u64>,
}

/// Sizes the CPU backend's thread pool (rayon's global pool, which burn's CPU backend and its
/// matrix products compute on) to `threads`, or to every core when `None`; returns its size.
/// Call once, before any work on the CPU backend.
pub fn set_threads(threads: Option<usize>) -> Result<usize, String> {
    if let Some(threads) = threads {
        if threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| format!("the CPU backend's thread pool: {e}"))?;
    }
    Ok(rayon::current_num_threads())
}

/// The device for `backend`; for the GPU, an error when no adapter is found.
pub fn device(backend: Backend) -> Result<Chosen, String> {
    let cpu = |description: String| Chosen {
        device: Device::flex(),
        cpu: true,
        description,
        max_buffer: None,
    };
    let on_gpu = |gpu: Gpu| Chosen {
        device: gpu.device,
        cpu: false,
        description: format!("GPU: {}", gpu.adapter),
        max_buffer: Some(gpu.max_buffer),
    };
    match backend {
        Backend::Cpu => Ok(cpu("CPU (burn's CPU backend)".into())),
        Backend::Gpu => gpu()
            .map(on_gpu)
            .map_err(|e| format!("no usable GPU ({e}); try --backend cpu")),
        Backend::Auto => Ok(match gpu() {
            Ok(gpu) if !gpu.software => on_gpu(gpu),
            Ok(Gpu { adapter, .. }) => cpu(format!(
                "CPU (burn's CPU backend): the only GPU adapter, {adapter}, is a software \
                 renderer, far slower than the CPU backend (--backend gpu takes it anyway)"
            )),
            Err(e) => cpu(format!("CPU (burn's CPU backend): no GPU adapter ({e})")),
        }),
    }
}

/// wgpu's preferred adapter (high performance first).
struct Gpu {
    device: Device,
    /// The adapter in words.
    adapter: String,
    /// A software renderer rather than a GPU.
    software: bool,
    /// Its largest buffer in bytes.
    max_buffer: u64,
}

#[cfg(feature = "gpu")]
fn gpu() -> Result<Gpu, String> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup()
        .map_err(|e| e.to_string())?;
    let info = setup.adapter.get_info();
    Ok(Gpu {
        device,
        adapter: format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type),
        software: is_software(info.device_type),
        max_buffer: crate::device::max_buffer(&setup),
    })
}

#[cfg(not(feature = "gpu"))]
fn gpu() -> Result<Gpu, String> {
    Err("this build has no GPU backend (cargo feature `gpu`)".into())
}

/// A software renderer (lavapipe, SwiftShader, WARP) rather than a GPU.
#[cfg(feature = "gpu")]
pub fn is_software(device_type: burn::tensor::wgpu::wgpu::DeviceType) -> bool {
    device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu
}

/// The wgpu device that tests share, when an adapter exists (Mesa's lavapipe on the test
/// machines); `None` tells a test to skip its wgpu part. With `STYLE_TRANSFER_REQUIRE_GPU=1`
/// (set by tests/run.sh, which installs a Vulkan driver) a missing adapter fails the test
/// instead.
#[cfg(feature = "gpu")]
pub fn test_gpu() -> Option<Device> {
    // wgpu's runtime is set up once per process; every test shares it.
    static GPU: std::sync::OnceLock<Result<Device, String>> = std::sync::OnceLock::new();
    match GPU.get_or_init(|| Device::wgpu_options().init().map_err(|e| e.to_string())) {
        Ok(device) => Some(device.clone()),
        Err(e) if std::env::var("STYLE_TRANSFER_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("no wgpu adapter, but STYLE_TRANSFER_REQUIRE_GPU=1: {e}")
        }
        Err(e) => {
            eprintln!("skipping the wgpu part: no adapter ({e})");
            None
        }
    }
}
