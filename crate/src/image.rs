//! Images on the host: planar RGB in `[0, 1]`, and their conversion to tensors.

use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, ExecutionError, Tensor, TensorData};

/// Largest input the engine accepts, in pixels (decoded inputs are scaled down first).
pub const MAX_INPUT_PIXELS: u64 = 100_000_000;

/// Why pixels could not be made into an [`Image`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImageError {
    /// Width or height is zero.
    #[error("the image is empty ({width}×{height} pixels)")]
    Empty {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// More than [`MAX_INPUT_PIXELS`] pixels.
    #[error("the image is too large ({width}×{height} pixels; at most {MAX_INPUT_PIXELS} pixels)")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The buffer does not hold `width × height` pixels.
    #[error("expected {expected} values for the image, got {actual}")]
    Length {
        /// Values needed.
        expected: usize,
        /// Values given.
        actual: usize,
    },
}

/// An RGB image, stored planar (`[3][height][width]`) with values in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    width: u32,
    height: u32,
    data: Vec<f32>,
}

/// A `[n, c, h, w]` tensor resampled bilinearly to `width × height`, on the device.
pub(crate) fn resize_tensor(tensor: Tensor<4>, width: u32, height: u32) -> Tensor<4> {
    let size = [height as usize, width as usize];
    interpolate(
        tensor,
        InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size(size),
    )
}

/// The size of a `width × height` picture scaled so that its longer side is `long_side`,
/// keeping the aspect ratio (each side ≥ 1).
pub fn size_for_long_side(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let scale = long_side as f64 / width.max(height) as f64;
    let side = |s: u32| ((s as f64 * scale).round() as u32).max(1);
    (side(width), side(height))
}

impl Image {
    /// Wraps planar RGB values (`[3][height][width]`, in `[0, 1]`).
    pub fn from_planar(width: u32, height: u32, data: Vec<f32>) -> Result<Self, ImageError> {
        let pixels = check_size(width, height)?;
        if data.len() != 3 * pixels {
            return Err(ImageError::Length {
                expected: 3 * pixels,
                actual: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Reads interleaved 8-bit RGB.
    pub fn from_rgb8(width: u32, height: u32, rgb: &[u8]) -> Result<Self, ImageError> {
        Self::from_interleaved(width, height, rgb, 3)
    }

    /// Reads interleaved 8-bit RGBA (as in the browser's `ImageData`), composited over white.
    pub fn from_rgba8(width: u32, height: u32, rgba: &[u8]) -> Result<Self, ImageError> {
        Self::from_interleaved(width, height, rgba, 4)
    }

    fn from_interleaved(
        width: u32,
        height: u32,
        bytes: &[u8],
        channels: usize,
    ) -> Result<Self, ImageError> {
        let pixels = check_size(width, height)?;
        if bytes.len() != channels * pixels {
            return Err(ImageError::Length {
                expected: channels * pixels,
                actual: bytes.len(),
            });
        }
        let mut data = vec![0.0; 3 * pixels];
        for (i, px) in bytes.chunks_exact(channels).enumerate() {
            let alpha = if channels == 4 {
                f32::from(px[3]) / 255.0
            } else {
                1.0
            };
            for c in 0..3 {
                data[c * pixels + i] = f32::from(px[c]) / 255.0 * alpha + (1.0 - alpha);
            }
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// `width × height`.
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// The planar values, `[3][height][width]`.
    pub fn planar(&self) -> &[f32] {
        &self.data
    }

    /// Interleaved 8-bit RGB.
    pub fn to_rgb8(&self) -> Vec<u8> {
        self.interleaved(None)
    }

    /// Interleaved 8-bit RGBA, opaque (for `ImageData`).
    pub fn to_rgba8(&self) -> Vec<u8> {
        self.interleaved(Some(255))
    }

    fn interleaved(&self, alpha: Option<u8>) -> Vec<u8> {
        let plane = self.pixel_count();
        let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        let mut out = Vec::with_capacity(plane * (3 + usize::from(alpha.is_some())));
        for i in 0..plane {
            out.extend((0..3).map(|c| to_u8(self.data[c * plane + i])));
            out.extend(alpha);
        }
        out
    }

    /// The size whose longer side is `long_side`, keeping the aspect ratio (each side ≥ 1).
    pub fn size_for_long_side(&self, long_side: u32) -> (u32, u32) {
        size_for_long_side(self.width, self.height, long_side)
    }

    /// The centred square whose side is the shorter side.
    pub fn center_square(&self) -> Image {
        let side = self.width.min(self.height);
        self.crop(
            (self.width - side) / 2,
            (self.height - side) / 2,
            side,
            side,
        )
    }

    /// The `width × height` part whose top-left corner is `(x, y)`.
    ///
    /// # Panics
    /// If the part is empty or reaches past the image's edge.
    pub fn crop(&self, x: u32, y: u32, width: u32, height: u32) -> Image {
        assert!(
            width > 0 && height > 0 && x + width <= self.width && y + height <= self.height,
            "{width}×{height} at ({x}, {y}) is not inside {}×{}",
            self.width,
            self.height
        );
        let (w, h) = (self.width as usize, self.height as usize);
        let (x, y, side) = (x as usize, y as usize, width as usize);
        let data = (0..3)
            .flat_map(|c| (y..y + height as usize).map(move |row| (c * h + row) * w + x))
            .flat_map(|start| self.data[start..start + side].iter().copied())
            .collect();
        Image {
            width,
            height,
            data,
        }
    }

    /// Resamples to `width × height` with a triangle filter widened when shrinking, so that
    /// downscaling averages instead of aliasing.
    pub fn resize(&self, width: u32, height: u32) -> Image {
        self.resize_with(width, height, Filter::Triangle)
    }

    /// Resamples to `width × height` with `filter`, widened when shrinking; values stay in
    /// `[0, 1]` (Lanczos's overshoot at edges is clipped).
    pub fn resize_with(&self, width: u32, height: u32, filter: Filter) -> Image {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let size = |w: u32, h: u32| [w as usize, h as usize];
        let data = resample(
            &self.data,
            size(self.width, self.height),
            size(width, height),
            filter,
        );
        Image {
            width,
            height,
            data,
        }
    }

    /// Uploads as a `[1, 3, height, width]` tensor.
    pub fn to_tensor(&self, device: &Device) -> Tensor<4> {
        let shape = [1, 3, self.height as usize, self.width as usize];
        Tensor::from_data(TensorData::new(self.data.clone(), shape), device)
    }

    /// Reads a `[1, 3, h, w]` tensor back, clamped to `[0, 1]`. Never blocks: wasm cannot.
    pub async fn from_tensor(tensor: Tensor<4>) -> Result<Image, ExecutionError> {
        let [_, _, h, w] = tensor.dims();
        let data = tensor.clamp(0.0, 1.0).into_data_async().await?;
        let data = data
            .try_into_vec::<f32>()
            .expect("an f32 tensor reads back as f32");
        Ok(Image {
            width: w as u32,
            height: h as u32,
            data,
        })
    }
}

/// Planes of `[w0, h0]` values (planar, one after another) resampled to `[w1, h1]` with
/// `filter`, widened when shrinking; values clipped to `[0, 1]`.
pub(crate) fn resample(
    data: &[f32],
    [w0, h0]: [usize; 2],
    [w1, h1]: [usize; 2],
    filter: Filter,
) -> Vec<f32> {
    let planes = data.len() / (w0 * h0);
    let horizontal = filter_weights(w0, w1, filter);
    let vertical = filter_weights(h0, h1, filter);
    let mut out = vec![0.0; planes * w1 * h1];
    let mut row = vec![0.0; w1 * h0];
    for c in 0..planes {
        let src = &data[c * w0 * h0..(c + 1) * w0 * h0];
        for y in 0..h0 {
            for (x, taps) in horizontal.iter().enumerate() {
                row[y * w1 + x] = taps.iter().map(|&(i, k)| src[y * w0 + i] * k).sum();
            }
        }
        let dst = &mut out[c * w1 * h1..(c + 1) * w1 * h1];
        for (y, taps) in vertical.iter().enumerate() {
            for x in 0..w1 {
                let v: f32 = taps.iter().map(|&(i, k)| row[i * w1 + x] * k).sum();
                dst[y * w1 + x] = v.clamp(0.0, 1.0);
            }
        }
    }
    out
}

pub(crate) fn check_size(width: u32, height: u32) -> Result<usize, ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Empty { width, height });
    }
    if u64::from(width) * u64::from(height) > MAX_INPUT_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    Ok(width as usize * height as usize)
}

/// A resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    /// Linear interpolation (a triangle of radius 1), widened when shrinking: soft.
    Triangle,
    /// Lanczos-3 (a windowed sinc of radius 3), widened when shrinking: sharp, with a
    /// little ringing at strong edges.
    Lanczos3,
}

impl Filter {
    /// Radius of the kernel in input pixels at scale 1.
    fn radius(self) -> f64 {
        match self {
            Filter::Triangle => 1.0,
            Filter::Lanczos3 => 3.0,
        }
    }

    /// The kernel at distance `d` (in its own units).
    fn weight(self, d: f64) -> f64 {
        let sinc = |x: f64| match x == 0.0 {
            true => 1.0,
            false => (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x),
        };
        match self {
            Filter::Triangle => (1.0 - d.abs()).max(0.0),
            Filter::Lanczos3 if d.abs() < 3.0 => sinc(d) * sinc(d / 3.0),
            Filter::Lanczos3 => 0.0,
        }
    }
}

/// For each output index, the input indices and normalised weights of `filter`.
fn filter_weights(from: usize, to: usize, filter: Filter) -> Vec<Vec<(usize, f32)>> {
    let scale = from as f64 / to as f64;
    let stretch = scale.max(1.0);
    let support = stretch * filter.radius();
    (0..to)
        .map(|o| {
            let centre = (o as f64 + 0.5) * scale;
            let lo = (centre - support).floor().max(0.0) as usize;
            let hi = ((centre + support).ceil() as usize).min(from);
            let mut taps: Vec<(usize, f32)> = (lo..hi)
                .map(|i| {
                    let d = (i as f64 + 0.5 - centre) / stretch;
                    (i, filter.weight(d) as f32)
                })
                .filter(|&(_, k)| k != 0.0)
                .collect();
            if taps.is_empty() {
                taps.push(((centre as usize).min(from - 1), 1.0));
            }
            let total: f32 = taps.iter().map(|t| t.1).sum();
            taps.iter_mut().for_each(|t| t.1 /= total);
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests;
