//! The paintings of a run and how they blend: what the objective, the start and the engine
//! all take.

use crate::image::Image;
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

/// Paintings held with their blend weights, as the [`StyleImage`]s a run borrows.
pub(crate) fn style_images(paintings: &[(Image, f32)]) -> Vec<StyleImage<'_>> {
    (paintings.iter())
        .map(|(image, blend)| StyleImage {
            image,
            blend: *blend,
        })
        .collect()
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
            },
            StyleImage {
                image: &b,
                blend: 0.0,
            },
            StyleImage {
                image: &c,
                blend: 1.0,
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
            },
            StyleImage {
                image: &orange,
                blend: 1.0,
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
}
