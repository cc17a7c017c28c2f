//! Masks: where each painting goes and where the photo is kept, as a person painted them
//! (values 0–1 at any size; Gatys et al. 2017, spatial control). What the paintings make of
//! them at a size is `crate::style::shares`.

use crate::image::{Filter, ImageError, check_size, resample};

/// A single-channel mask, values in `[0, 1]`: 1 where a painting (or, as the keep mask, the
/// photo) goes, 0 where it does not, in between for a soft edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    width: u32,
    height: u32,
    values: Vec<f32>,
}

/// Below this a mask's value counts as nothing (half a step of 8 bits).
pub(crate) const NOTHING: f32 = 0.5 / 255.0;

impl Mask {
    /// Wraps `width × height` values, row by row; each is clipped to `[0, 1]` (a value that is
    /// not a number is refused).
    pub fn from_values(width: u32, height: u32, values: Vec<f32>) -> Result<Self, ImageError> {
        let pixels = check_size(width, height)?;
        if values.len() != pixels || values.iter().any(|v| v.is_nan()) {
            return Err(ImageError::Length {
                expected: pixels,
                actual: values.iter().filter(|v| !v.is_nan()).count(),
            });
        }
        let values = values.into_iter().map(|v| v.clamp(0.0, 1.0)).collect();
        Ok(Self {
            width,
            height,
            values,
        })
    }

    /// Reads one byte a pixel: 255 is 1 (white: this painting), 0 is 0.
    pub fn from_grey8(width: u32, height: u32, grey: &[u8]) -> Result<Self, ImageError> {
        Self::from_values(
            width,
            height,
            grey.iter().map(|&v| f32::from(v) / 255.0).collect(),
        )
    }

    /// Reads 8-bit RGBA (a canvas's `ImageData`): the value is the pixel's luminance times its
    /// opacity, so white paint on a transparent canvas and a greyscale picture both read as
    /// drawn, and transparent pixels are 0.
    pub fn from_rgba8(width: u32, height: u32, rgba: &[u8]) -> Result<Self, ImageError> {
        let pixels = check_size(width, height)?;
        if rgba.len() != 4 * pixels {
            return Err(ImageError::Length {
                expected: 4 * pixels,
                actual: rgba.len(),
            });
        }
        let values = rgba
            .chunks_exact(4)
            .map(|p| {
                let [r, g, b, a] = [p[0], p[1], p[2], p[3]].map(|v| f32::from(v) / 255.0);
                (0.2126 * r + 0.7152 * g + 0.0722 * b) * a
            })
            .collect();
        Self::from_values(width, height, values)
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The values, row by row.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The values resampled to `width × height` (averaged when shrinking).
    pub(crate) fn resized(&self, width: u32, height: u32) -> Vec<f32> {
        let size = |w: u32, h: u32| [w as usize, h as usize];
        match (width, height) == (self.width, self.height) {
            true => self.values.clone(),
            false => resample(
                &self.values,
                size(self.width, self.height),
                size(width, height),
                Filter::Triangle,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_reads_luminance_times_opacity() {
        let rgba = [
            255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 255, 128, 128, 128, 255,
        ];
        let m = Mask::from_rgba8(4, 1, &rgba).unwrap();
        let expected = [1.0, 0.0, 0.0, 128.0 / 255.0];
        for (got, want) in m.values().iter().zip(expected) {
            assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        }
        assert!(Mask::from_rgba8(4, 1, &rgba[..12]).is_err());
        assert!(Mask::from_grey8(0, 1, &[]).is_err());
        assert!(Mask::from_values(1, 1, vec![f32::NAN]).is_err());
    }
}
