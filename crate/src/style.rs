//! The paintings of a run, how they blend, and where each goes with masks: what the
//! objective, the start and the engine all take.

use crate::image::Image;
use crate::mask::{Mask, NOTHING};
use crate::options::Colors;
use crate::palette::{Palette, grey, recolor};
use crate::report::StylizeError;

/// A style image and its share in the blend.
#[derive(Debug, Clone, Copy)]
pub struct StyleImage<'a> {
    /// The painting.
    pub image: &'a Image,
    /// Blend weight (≥ 0): this painting's share of the style; the blend weights are
    /// normalised to sum to 1. (The style *loss* weight is [`StyleOptions::style_weight`](crate::StyleOptions::style_weight).)
    pub blend: f32,
    /// Where this painting goes (Gatys et al. 2017's spatial control), or `None` for the
    /// whole picture. With any mask in a run (or a keep mask), each painting's style is
    /// matched in its own region rather than blended: see [`Mask`].
    pub mask: Option<&'a Mask>,
}

/// The paintings with a positive blend weight, each with its share of the blend (the shares
/// sum to 1).
pub(crate) fn blend_shares<'a>(
    styles: &'a [StyleImage<'a>],
) -> impl Iterator<Item = (&'a Image, f32)> + 'a {
    let total: f32 = styles.iter().map(|s| s.blend).sum();
    styles
        .iter()
        .filter(|s| s.blend > 0.0)
        .map(move |s| (s.image, s.blend / total))
}

/// The photo and the paintings (with their blend weights) as the objective and the start see
/// them for `colors`: the luminance of both for [`Colors::Luminance`] (the paintings' matched
/// to the photo's mean and spread), the paintings in the photo's palette for
/// [`Colors::Match`]; `None` where they are used as they are.
pub(crate) fn recolored(
    colors: Colors,
    content: &Image,
    styles: &[StyleImage<'_>],
) -> Option<(Image, Vec<(Image, f32)>)> {
    let paintings = |recolor: &dyn Fn(&Image) -> Image| {
        (styles.iter())
            .map(|s| (recolor(s.image), s.blend))
            .collect()
    };
    match colors {
        Colors::Painting | Colors::Photo => None,
        Colors::Luminance => Some((
            grey(content, None),
            paintings(&|painting| grey(painting, Some(content))),
        )),
        Colors::Match => {
            let palette = Palette::of(content);
            let paintings = paintings(&|painting| recolor(painting, &palette));
            Some((content.clone(), paintings))
        }
    }
}

/// The photo in the paintings' colours, at once and without a network (the page's "Palette
/// only"): `content` recoloured to the palette of the paintings' blend (their pixels pooled,
/// each painting by its share). Values are not clipped; writing the image clips them.
pub fn in_paintings_colors(
    content: &Image,
    styles: &[StyleImage<'_>],
) -> Result<Image, StylizeError> {
    check_styles(styles)?;
    let parts: Vec<(Palette, f64)> = blend_shares(styles)
        .map(|(image, share)| (Palette::of(image), f64::from(share)))
        .collect();
    Ok(recolor(content, &Palette::blend(&parts)))
}

/// Refuses no painting, a blend weight that is not a number ≥ 0, or all weights 0.
pub(crate) fn check_styles(styles: &[StyleImage<'_>]) -> Result<(), StylizeError> {
    if styles.is_empty() {
        return Err(StylizeError::Styles("no style image given".into()));
    }
    if let Some(bad) = styles
        .iter()
        .find(|s| !(s.blend.is_finite() && s.blend >= 0.0))
    {
        return Err(StylizeError::Styles(format!(
            "style blend weights must be numbers ≥ 0, got {}",
            bad.blend
        )));
    }
    if styles.iter().all(|s| s.blend == 0.0) {
        return Err(StylizeError::Styles(
            "at least one style blend weight must be above 0".into(),
        ));
    }
    Ok(())
}

/// Each painting's share of every pixel at one size: where the shares sum to less than 1, the
/// rest is the photo's (kept).
#[derive(Debug, Clone)]
pub(crate) struct Shares {
    /// Per painting, in the order of the styles: its share of each pixel (row by row), or
    /// `None` where it has none anywhere (its blend weight is 0, or its mask is empty).
    pub(crate) styles: Vec<Option<Vec<f32>>>,
}

/// Whether a run is guided: some painting in the blend (weight > 0) has a mask, or there is a
/// keep mask.
fn guided(styles: &[StyleImage<'_>], keep: Option<&Mask>) -> bool {
    keep.is_some() || styles.iter().any(|s| s.blend > 0.0 && s.mask.is_some())
}

/// The paintings' shares of a `width × height` picture, or `None` for an unguided run (no mask
/// at all: the paintings blend everywhere by their weights).
///
/// A painting without a mask covers the whole picture. At each pixel, with masks `mᵢ`, blend
/// weights `bᵢ` and the keep mask `k`, painting `i` gets
/// `min(1, Σ m) · (1 − k) · bᵢmᵢ / Σ bm`: where masks overlap they share the pixel by their
/// values and blend weights, where they sum to less than 1 the rest is kept, and the keep mask
/// takes its part from all of them.
pub(crate) fn shares(
    styles: &[StyleImage<'_>],
    keep: Option<&Mask>,
    width: u32,
    height: u32,
) -> Option<Shares> {
    if !guided(styles, keep) {
        return None;
    }
    let pixels = width as usize * height as usize;
    let masks: Vec<Option<Vec<f32>>> = (styles.iter())
        .map(|s| {
            (s.blend > 0.0).then(|| match s.mask {
                Some(mask) => mask.resized(width, height),
                None => vec![1.0; pixels],
            })
        })
        .collect();
    let keep = keep.map(|k| k.resized(width, height));
    let mut shares: Vec<Vec<f32>> = vec![vec![0.0; pixels]; styles.len()];
    for p in 0..pixels {
        let (mut covered, mut weighted) = (0.0f32, 0.0f32);
        for (mask, style) in masks.iter().zip(styles) {
            if let Some(mask) = mask {
                covered += mask[p];
                weighted += style.blend * mask[p];
            }
        }
        if weighted <= 0.0 {
            continue;
        }
        let kept = keep.as_ref().map_or(0.0, |k| k[p]);
        let scale = covered.min(1.0) * (1.0 - kept) / weighted;
        for ((mask, style), share) in masks.iter().zip(styles).zip(&mut shares) {
            if let Some(mask) = mask {
                share[p] = style.blend * mask[p] * scale;
            }
        }
    }
    let styles = (shares.into_iter())
        .map(|share| share.iter().any(|&v| v >= NOTHING).then_some(share))
        .collect();
    Some(Shares { styles })
}

/// Refuses masks that cannot guide a run on a `[width, height]` photo, before any work: a mask
/// whose shape is not the photo's (its aspect ratio off by more than a pixel's rounding), or
/// masks that leave no painting anything to paint.
pub(crate) fn check_masks(
    [width, height]: [u32; 2],
    styles: &[StyleImage<'_>],
    keep: Option<&Mask>,
) -> Result<(), StylizeError> {
    // A painting weighted 0 takes no part, its mask neither.
    let named = (styles.iter().enumerate())
        .filter(|(_, s)| s.blend > 0.0)
        .filter_map(|(i, s)| s.mask.map(|m| (format!("the mask of style {}", i + 1), m)))
        .chain(keep.map(|k| ("the keep mask".to_string(), k)));
    for (name, mask) in named {
        // The photo's aspect ratio at the mask's width, within a pixel of its height.
        let expected = f64::from(mask.width()) * f64::from(height) / f64::from(width);
        if (expected - f64::from(mask.height())).abs() > 1.0 + 0.01 * expected {
            return Err(StylizeError::Masks(format!(
                "{name} is {}×{} px and the photo {width}×{height}: a mask must have the photo's shape",
                mask.width(),
                mask.height()
            )));
        }
    }
    // Judged at a size that keeps a thin stroke of a large mask.
    let side = width.max(height).min(256);
    let (w, h) = crate::image::size_for_long_side(width, height, side);
    if let Some(shares) = shares(styles, keep, w, h)
        && shares.styles.iter().all(Option::is_none)
    {
        return Err(StylizeError::Masks(
            "the masks leave no painting anything to paint: draw where at least one goes".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_one_and_skip_the_paintings_weighted_zero() {
        let (a, b, c) = (
            Image::from_planar(1, 1, vec![0.0; 3]).unwrap(),
            Image::from_planar(1, 1, vec![0.5; 3]).unwrap(),
            Image::from_planar(1, 1, vec![1.0; 3]).unwrap(),
        );
        let styles = [
            StyleImage {
                image: &a,
                blend: 3.0,
                mask: None,
            },
            StyleImage {
                image: &b,
                blend: 0.0,
                mask: None,
            },
            StyleImage {
                image: &c,
                blend: 1.0,
                mask: None,
            },
        ];
        check_styles(&styles).unwrap();
        let shares: Vec<(f32, f32)> = blend_shares(&styles)
            .map(|(image, share)| (image.planar()[0], share))
            .collect();
        assert_eq!(shares, [(0.0, 0.75), (1.0, 0.25)]);
    }

    #[test]
    fn no_painting_a_bad_weight_or_all_weights_zero_are_refused() {
        let image = Image::from_planar(1, 1, vec![0.0; 3]).unwrap();
        let with = |blend| {
            [StyleImage {
                image: &image,
                blend,
                mask: None,
            }]
        };
        for (styles, says) in [
            (&[][..], "no style image"),
            (&with(-1.0)[..], "numbers ≥ 0"),
            (&with(f32::NAN)[..], "numbers ≥ 0"),
            (&with(0.0)[..], "above 0"),
        ] {
            let error = check_styles(styles).unwrap_err();
            assert!(
                matches!(&error, StylizeError::Styles(m) if m.contains(says)),
                "{error}"
            );
        }
    }

    #[test]
    fn the_palette_action_gives_the_photo_the_blend_s_colours() {
        let photo = crate::test_util::fixture("photo.jpg").resize(60, 40);
        let painting = crate::test_util::fixture("painting.png").resize(40, 40);
        // A flat orange: no spread of its own, so the blend's covariance is the painting's
        // shrunk, plus the spread between the two means.
        let orange = [0.9f32, 0.5, 0.1].map(|v| vec![v; 1600]).concat();
        let orange = Image::from_planar(40, 40, orange).unwrap();
        let styles = [
            StyleImage {
                image: &painting,
                blend: 3.0,
                mask: None,
            },
            StyleImage {
                image: &orange,
                blend: 1.0,
                mask: None,
            },
        ];
        let out = in_paintings_colors(&photo, &styles).unwrap();
        assert_eq!((out.width(), out.height()), (60, 40));
        let expected =
            Palette::blend(&[(Palette::of(&painting), 0.75), (Palette::of(&orange), 0.25)]);
        let got = Palette::of(&out);
        for c in 0..3 {
            assert!(
                (got.mean[c] - expected.mean[c]).abs() < 1e-5,
                "{got:?} vs {expected:?}"
            );
            for d in 0..3 {
                let (x, y) = (got.covariance[c][d], expected.covariance[c][d]);
                assert!((x - y).abs() < 1e-6, "{got:?} vs {expected:?}");
            }
        }
        assert!(in_paintings_colors(&photo, &[]).is_err());
    }

    fn painting() -> Image {
        Image::from_planar(1, 1, vec![0.5; 3]).unwrap()
    }

    /// A `4 × 1` mask.
    fn mask(values: [f32; 4]) -> Mask {
        Mask::from_values(4, 1, values.to_vec()).unwrap()
    }

    #[test]
    fn shares_split_overlaps_and_leave_the_rest_to_the_photo() {
        let (a, b) = (painting(), painting());
        let left = mask([1.0, 1.0, 0.5, 0.0]);
        let right = mask([0.0, 1.0, 0.5, 0.25]);
        let styles = [
            StyleImage {
                image: &a,
                blend: 1.0,
                mask: Some(&left),
            },
            StyleImage {
                image: &b,
                blend: 3.0,
                mask: Some(&right),
            },
        ];
        let shares = shares(&styles, None, 4, 1).unwrap();
        let [Some(sa), Some(sb)] = [&shares.styles[0], &shares.styles[1]] else {
            panic!("both paintings have a share");
        };
        // Pixel 0: all a. Pixel 1: overlap, split 1:3 by blend. Pixel 2: sum 1, split 1:3.
        // Pixel 3: b at 0.25, the rest kept.
        let expected_a = [1.0, 0.25, 0.25, 0.0];
        let expected_b = [0.0, 0.75, 0.75, 0.25];
        for p in 0..4 {
            assert!((sa[p] - expected_a[p]).abs() < 1e-6, "a at {p}: {}", sa[p]);
            assert!((sb[p] - expected_b[p]).abs() < 1e-6, "b at {p}: {}", sb[p]);
        }
        // The keep mask takes its part from both.
        let keep = mask([0.0, 0.5, 0.0, 1.0]);
        let kept = super::shares(&styles, Some(&keep), 4, 1).unwrap();
        let sa = kept.styles[0].as_ref().unwrap();
        let sb = kept.styles[1].as_ref().unwrap();
        assert!((sa[1] - 0.125).abs() < 1e-6 && (sb[1] - 0.375).abs() < 1e-6);
        assert_eq!(sb[3], 0.0);
    }

    #[test]
    fn no_mask_is_unguided_and_a_painting_without_a_mask_covers_everything() {
        let a = painting();
        let unmasked = [StyleImage {
            image: &a,
            blend: 1.0,
            mask: None,
        }];
        assert!(shares(&unmasked, None, 4, 1).is_none());
        let keep = mask([1.0, 0.0, 0.0, 0.0]);
        let shares = shares(&unmasked, Some(&keep), 4, 1).unwrap();
        assert_eq!(shares.styles[0].as_deref(), Some(&[0.0, 1.0, 1.0, 1.0][..]));
    }

    /// A painting weighted 0 takes no part in the run: its mask neither makes the run guided
    /// nor is checked.
    #[test]
    fn the_mask_of_a_painting_weighted_zero_is_left_out() {
        let (a, b) = (painting(), painting());
        let odd = Mask::from_values(4, 4, vec![1.0; 16]).unwrap();
        let styles = [
            StyleImage {
                image: &a,
                blend: 1.0,
                mask: None,
            },
            StyleImage {
                image: &b,
                blend: 0.0,
                mask: Some(&odd),
            },
        ];
        assert!(!guided(&styles, None));
        assert!(shares(&styles, None, 4, 1).is_none());
        check_masks([40, 10], &styles, None).unwrap();
    }

    #[test]
    fn masks_of_the_wrong_shape_or_with_nothing_to_paint_are_refused() {
        let a = painting();
        let tall = Mask::from_values(4, 4, vec![1.0; 16]).unwrap();
        let styles = [StyleImage {
            image: &a,
            blend: 1.0,
            mask: Some(&tall),
        }];
        let e = check_masks([40, 10], &styles, None).unwrap_err();
        assert!(e.to_string().contains("mask of style 1"), "{e}");
        let empty = mask([0.0; 4]);
        let styles = [StyleImage {
            image: &a,
            blend: 1.0,
            mask: Some(&empty),
        }];
        let e = check_masks([40, 10], &styles, None).unwrap_err();
        assert!(e.to_string().contains("no painting"), "{e}");
        // Everything kept leaves nothing to paint too.
        let everything = mask([1.0; 4]);
        let unmasked = [StyleImage {
            image: &a,
            blend: 1.0,
            mask: None,
        }];
        assert!(check_masks([40, 10], &unmasked, Some(&everything)).is_err());
        // The photo's shape at another size is fine.
        let half = mask([0.0, 0.0, 1.0, 1.0]);
        let styles = [StyleImage {
            image: &a,
            blend: 1.0,
            mask: Some(&half),
        }];
        check_masks([400, 100], &styles, None).unwrap();
    }
}
