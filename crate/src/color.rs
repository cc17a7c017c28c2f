//! Colour preservation: the luminance of one image with the chroma of another (YUV, BT.601),
//! as `-original_colors` in jcjohnson/neural-style.

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

#[cfg(test)]
mod tests {
    use super::*;

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
