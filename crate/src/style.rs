//! The paintings of a run and how they blend: what the objective, the start and the engine
//! all take.

use crate::image::Image;
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
