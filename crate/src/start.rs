//! Where the optimisation starts: the photo, seeded noise, or the feed-forward network's
//! painting of the photo with the blended paintings' style.

use burn::tensor::{Device, ExecutionError, Tensor, TensorData};

use crate::fast::{BYTES_PER_PIXEL, FastNetwork, style_input_side};
use crate::image::{Image, resize_tensor};
use crate::options::{Init, StyleOptions};
use crate::random::SplitMix64;
use crate::style::{Shares, StyleImage, blend_shares};

/// Smallest side the feed-forward network paints a start over the memory budget at.
const MIN_PAINTED_SIDE: u32 = 8;

/// What the feed-forward network paints a start with.
pub(crate) enum FastStyle {
    /// One style vector for the whole picture (boxed: a tensor handle is large).
    Blended(Box<Tensor<2>>),
    /// A style vector per painting with its share of each pixel at the output size (row by
    /// row); where the shares leave a rest, the photo.
    Regions(Vec<(Tensor<2>, Vec<f32>)>),
}

/// The style of the fast start: without masks (`shares` `None`), the paintings' vectors
/// averaged by their blend weights; with masks, each painting's own vector and its share. Each
/// vector is interpolated towards the photo's own by [`StyleOptions::fast_strength`] (Ghiasi
/// et al.'s style strength), and each picture is seen at the optimisation's scale for the
/// output size ([`style_input_side`]).
pub(crate) fn fast_style(
    network: &FastNetwork,
    content: &Image,
    styles: &[StyleImage<'_>],
    shares: Option<Shares>,
    options: &StyleOptions,
) -> FastStyle {
    let vector = |image: &Image| {
        let side = style_input_side(
            [image.width(), image.height()],
            options.size,
            options.style_scale,
        );
        network.style_vector(image, side)
    };
    let strength = options.fast_strength;
    let own = (strength < 1.0).then(|| vector(content));
    let strengthen = |v: Tensor<2>| match &own {
        Some(own) => v.mul_scalar(strength) + own.clone().mul_scalar(1.0 - strength),
        None => v,
    };
    match shares {
        None => FastStyle::Blended(Box::new(strengthen(
            blend_shares(styles)
                .map(|(image, share)| vector(image).mul_scalar(share))
                .reduce(|a, b| a + b)
                .expect("at least one style has a positive weight"),
        ))),
        Some(shares) => FastStyle::Regions(
            (styles.iter().zip(shares.styles))
                .filter_map(|(style, share)| Some((strengthen(vector(style.image)), share?)))
                .collect(),
        ),
    }
}

/// The picture a run starts from, made at the output size (the size it is shown and
/// returned at), with its versions at the run's coarser scales.
///
/// Coarse to fine, each scale's result is carried to the next scale as its difference from
/// the start, enlarged and added to the start at the next size ([`carry`](Self::carry)):
/// the coarse scales change the picture's broad forms, and the start's fine detail (the
/// painted strokes, the photo's edges) reaches the output unblurred instead of going through
/// every enlargement. A noise start has no detail worth keeping: its pictures are enlarged.
pub(crate) struct Start {
    /// What the start at each scale is resized from (antialiased), on the host: the photo
    /// itself for a photo start, else the start at the output size.
    source: Image,
    /// The start at the output size, on the device.
    tensor: Tensor<4>,
    keeps_detail: bool,
}

impl Start {
    /// The start for `content` at `(width, height)`, the output size. `fast` holds the
    /// network and the style vector from [`fast_style`] when `options.init` is
    /// [`Init::Fast`]: its picture, mixed with the photo by [`StyleOptions::fast_mix`] unless
    /// there are no iterations (Quick); a photo whose painting would take more than
    /// [`StyleOptions::memory_budget`] is painted smaller and enlarged.
    pub(crate) async fn new(
        content: &Image,
        (width, height): (u32, u32),
        options: &StyleOptions,
        fast: Option<(&FastNetwork, FastStyle)>,
        device: &Device,
    ) -> Result<Self, ExecutionError> {
        let (source, keeps_detail) = match (options.init, fast) {
            (Init::Fast, Some((network, style))) => {
                let photo = content.resize(width, height);
                let mut painted = match style {
                    FastStyle::Blended(style) => paint(network, &photo, *style, options, device),
                    FastStyle::Regions(regions) => {
                        // Each painting's picture where it goes, the photo in the rest.
                        let share = |values: Vec<f32>| {
                            let shape = [1, 1, height as usize, width as usize];
                            Tensor::<4>::from_data(TensorData::new(values, shape), device)
                        };
                        let photo_tensor = photo.to_tensor(device);
                        let mut kept =
                            Tensor::<4>::ones([1, 1, height as usize, width as usize], device);
                        let mut sum = Tensor::<4>::zeros(photo_tensor.dims(), device);
                        for (style, values) in regions {
                            let share = share(values);
                            kept = kept - share.clone();
                            sum = sum + paint(network, &photo, style, options, device) * share;
                        }
                        sum + photo_tensor * kept
                    }
                };
                if options.iterations > 0 && options.fast_mix < 1.0 {
                    painted = painted.mul_scalar(options.fast_mix)
                        + photo.to_tensor(device).mul_scalar(1.0 - options.fast_mix);
                }
                (Image::from_tensor(painted).await?, true)
            }
            (Init::Noise, _) => (noise(width, height, options.seed), false),
            _ => (content.clone(), true),
        };
        let tensor = source.resize(width, height).to_tensor(device);
        Ok(Self {
            source,
            tensor,
            keeps_detail,
        })
    }

    /// A start from a given picture of the photo (a video frame's, steadied by the last frame's
    /// result), made at
    /// the output size `(width, height)`; its detail is carried through the scales as the
    /// fast start's is.
    pub(crate) fn given(picture: &Image, (width, height): (u32, u32), device: &Device) -> Self {
        let source = picture.resize(width, height);
        Self {
            tensor: source.to_tensor(device),
            source,
            keeps_detail: true,
        }
    }

    /// The start at the output size, on the device.
    ///
    /// # Shapes
    /// → `[1, 3, height, width]` of the output
    pub(crate) fn tensor(&self) -> &Tensor<4> {
        &self.tensor
    }

    /// The start resized to `width × height` (antialiased), on the device.
    ///
    /// # Shapes
    /// → `[1, 3, height, width]`
    pub(crate) fn at(&self, width: u32, height: u32) -> Tensor<4> {
        let [_, _, h, w] = self.tensor.dims();
        match (width as usize, height as usize) == (w, h) {
            true => self.tensor.clone(),
            false => self
                .source
                .resize(width, height)
                .to_tensor(&self.tensor.device()),
        }
    }

    /// `picture`, made at the size where the start is `from`, brought to the size where the
    /// start is `to`: `to` plus the picture's difference from `from`, enlarged; or, for a
    /// noise start, the picture enlarged. At the same size, the picture itself.
    ///
    /// # Shapes
    /// `picture`, `from`: `[1, 3, h, w]`; `to`: `[1, 3, H, W]` → `[1, 3, H, W]`
    pub(crate) fn carry(&self, picture: Tensor<4>, from: &Tensor<4>, to: &Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = to.dims();
        if picture.dims() == to.dims() {
            return picture;
        }
        match self.keeps_detail {
            true => to.clone() + resize_tensor(picture - from.clone(), w as u32, h as u32),
            false => resize_tensor(picture, w as u32, h as u32),
        }
    }
}

/// The network's picture of `content`, painted smaller and enlarged when it would take more
/// than [`StyleOptions::memory_budget`].
pub(crate) fn paint(
    network: &FastNetwork,
    content: &Image,
    style: Tensor<2>,
    options: &StyleOptions,
    device: &Device,
) -> Tensor<4> {
    let (width, height) = (content.width(), content.height());
    let pixels = f64::from(width) * f64::from(height);
    let fits = options.memory_budget_bytes() as f64 / BYTES_PER_PIXEL as f64;
    if pixels <= fits {
        return network.paint(content.to_tensor(device), style);
    }
    let shrink = (fits / pixels).sqrt();
    let side = |s: u32| ((f64::from(s) * shrink) as u32).max(MIN_PAINTED_SIDE);
    let small = content.resize(side(width), side(height));
    let painted = network.paint(small.to_tensor(device), style);
    resize_tensor(painted, width, height)
}

/// Seeded Gaussian noise around mid-grey.
pub(crate) fn noise(width: u32, height: u32, seed: u64) -> Image {
    let mut rng = SplitMix64::new(seed);
    let values = (0..3 * width as usize * height as usize)
        .map(|_| (0.5 + 0.15 * rng.gaussian()).clamp(0.0, 1.0))
        .collect();
    Image::from_planar(width, height, values).expect("three planes of width × height")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{cpu, read};

    /// A photo with a sharp edge: the detail an enlargement would blur.
    fn photo(width: u32, height: u32) -> Image {
        let data = (0..3 * width * height)
            .map(|i| if (i % width) < width / 2 { 0.2 } else { 0.8 })
            .collect();
        Image::from_planar(width, height, data).unwrap()
    }

    fn options(init: Init) -> StyleOptions {
        StyleOptions {
            init,
            ..StyleOptions::default()
        }
    }

    #[test]
    fn carrying_a_coarse_result_up_keeps_the_start_s_detail() {
        let photo = photo(32, 16);
        let start = pollster::block_on(Start::new(
            &photo,
            (32, 16),
            &options(Init::Content),
            None,
            &cpu(),
        ))
        .unwrap();
        let (coarse, fine) = (start.at(16, 8), start.at(32, 16));
        // The coarse scale changed the picture by a flat 0.1: at the fine scale that is the
        // start plus 0.1, its edge as sharp as the photo's.
        let picture = coarse.clone().add_scalar(0.1);
        let carried = read(start.carry(picture, &coarse, &fine));
        let expected: Vec<f32> = photo.planar().iter().map(|v| v + 0.1).collect();
        let worst = carried
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-5, "{worst}");
        // At the same size the picture is passed on as it is.
        let same = read(start.carry(fine.clone().mul_scalar(0.5), &fine, &fine));
        let half: Vec<f32> = photo.planar().iter().map(|v| v * 0.5).collect();
        assert!(same.iter().zip(&half).all(|(a, b)| (a - b).abs() < 1e-6));
    }

    #[test]
    fn a_noise_start_is_seeded_and_enlarged_rather_than_carried() {
        let photo = photo(32, 16);
        let new = |seed| {
            let options = StyleOptions {
                seed,
                ..options(Init::Noise)
            };
            pollster::block_on(Start::new(&photo, (32, 16), &options, None, &cpu())).unwrap()
        };
        let (a, b, c) = (new(1), new(1), new(2));
        assert_eq!(read(a.tensor().clone()), read(b.tensor().clone()));
        assert_ne!(read(a.tensor().clone()), read(c.tensor().clone()));
        // A noise start has no detail to keep: a coarse result is enlarged as it is.
        let (coarse, fine) = (a.at(16, 8), a.at(32, 16));
        let flat = Tensor::<4>::full([1, 3, 8, 16], 0.3, &cpu());
        let carried = read(a.carry(flat, &coarse, &fine));
        assert!(carried.iter().all(|v| (v - 0.3).abs() < 1e-6));
    }
}
