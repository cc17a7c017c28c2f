//! Colour preservation: the luminance of one image with the chroma of another (YUV, BT.601),
//! as `-original_colors` in jcjohnson/neural-style; and measures on the luminance.

use crate::image::Image;

fn to_yuv([r, g, b]: [f32; 3]) -> [f32; 3] {
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    [y, 0.492 * (b - y), 0.877 * (r - y)]
}

fn to_rgb([y, u, v]: [f32; 3]) -> [f32; 3] {
    let b = y + u / 0.492;
    let r = y + v / 0.877;
    let g = (y - 0.299 * r - 0.114 * b) / 0.587;
    [r, g, b]
}

/// Keeps the luminance of `luma` and takes the chroma of `chroma`, resized to `luma`'s size.
pub fn transfer_luminance(luma: &Image, chroma: &Image) -> Image {
    let chroma = chroma.resize(luma.width(), luma.height());
    let plane = luma.pixel_count();
    let (l, c) = (luma.planar(), chroma.planar());
    let mut out = vec![0.0; 3 * plane];
    for i in 0..plane {
        let [y, _, _] = to_yuv([l[i], l[plane + i], l[2 * plane + i]]);
        let [_, u, v] = to_yuv([c[i], c[plane + i], c[2 * plane + i]]);
        let rgb = to_rgb([y, u, v]);
        for (ch, value) in rgb.into_iter().enumerate() {
            out[ch * plane + i] = value.clamp(0.0, 1.0);
        }
    }
    Image::from_planar(luma.width(), luma.height(), out).expect("same size as `luma`")
}

/// Luminance (BT.601) of every pixel.
pub fn luminance(image: &Image) -> Vec<f32> {
    let plane = image.pixel_count();
    let p = image.planar();
    (0..plane)
        .map(|i| to_yuv([p[i], p[plane + i], p[2 * plane + i]])[0])
        .collect()
}

/// Sharpness of `image`: the variance of the Laplacian (4-neighbour, over the pixels whose neighbours
/// all lie inside) of the BT.601 luminance in 0–255 levels. Blurring lowers it; detail and
/// noise raise it. 0 for images under 3 × 3.
pub fn sharpness(image: &Image) -> f64 {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let y: Vec<f64> = luminance(image)
        .into_iter()
        .map(|v| f64::from(v) * 255.0)
        .collect();
    let laplacian: Vec<f64> = (1..h - 1)
        .flat_map(|r| (1..w - 1).map(move |c| (r, c)))
        .map(|(r, c)| {
            let at = |r: usize, c: usize| y[r * w + c];
            at(r - 1, c) + at(r + 1, c) + at(r, c - 1) + at(r, c + 1) - 4.0 * at(r, c)
        })
        .collect();
    let n = laplacian.len() as f64;
    let mean = laplacian.iter().sum::<f64>() / n;
    laplacian.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: a single white pixel on black has Laplacian −4·255 there and 255 at its four
    /// neighbours, 0 elsewhere; a flat image 0; a blur of the dot lowers it.
    #[test]
    fn sharpness_is_the_variance_of_the_laplacian() {
        let mut dot = vec![0.0; 3 * 25];
        for c in 0..3 {
            dot[c * 25 + 12] = 1.0;
        }
        let dot = Image::from_planar(5, 5, dot).unwrap();
        let values = [-4.0 * 255.0, 255.0, 255.0, 255.0, 255.0, 0.0, 0.0, 0.0, 0.0];
        let mean = values.iter().sum::<f64>() / 9.0;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 9.0;
        assert!((sharpness(&dot) - variance).abs() < 1e-6 * variance);
        assert!(sharpness(&Image::from_planar(5, 5, vec![0.4; 75]).unwrap()) < 1e-12);
        let blurred = dot.resize(3, 3).resize(5, 5);
        assert!(sharpness(&blurred) < 0.5 * sharpness(&dot));
    }

    #[test]
    fn yuv_round_trips() {
        for rgb in [
            [0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0],
            [0.2, 0.7, 0.4],
            [0.9, 0.1, 0.3],
        ] {
            let back = to_rgb(to_yuv(rgb));
            for (a, b) in rgb.iter().zip(back) {
                assert!((a - b).abs() < 1e-5, "{rgb:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn output_keeps_luminance_and_takes_chroma() {
        // Luma source: a grey ramp; chroma source: a muted orange (no clipping).
        let w = 4;
        let grey: Vec<f32> = (0..3).flat_map(|_| [0.3, 0.4, 0.5, 0.6]).collect();
        let luma = Image::from_planar(w, 1, grey).unwrap();
        let orange: Vec<f32> = [0.6f32, 0.5, 0.4].iter().flat_map(|&c| [c; 4]).collect();
        let chroma = Image::from_planar(w, 1, orange).unwrap();
        let out = transfer_luminance(&luma, &chroma);
        for (a, b) in luminance(&out).iter().zip(luminance(&luma)) {
            assert!((a - b).abs() < 1e-4);
        }
        // Hue comes from the orange: red > green > blue in every pixel.
        let p = out.planar();
        for i in 0..4 {
            assert!(p[i] > p[4 + i] && p[4 + i] > p[8 + i], "{p:?}");
        }
    }
}
