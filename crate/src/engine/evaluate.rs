//! Judging a finished picture: the weighted terms of the objective a run at its size
//! minimises.

use crate::image::Image;
use crate::objective::{min_side, targets};
use crate::options::StyleOptions;
use crate::style::{StyleImage, check_masks, check_styles};

use super::{Losses, StylizeError, Stylizer, read_scalars, terms};

impl Stylizer {
    /// The weighted loss terms of a finished `image` against `content` and `styles` with this
    /// stylizer's network: the objective a run at `image`'s size minimises (the content photo
    /// is resized to `image`; with the paintings' masks, and without a keep mask). Judging the
    /// results of one network with another (the float VGG16 judging the quantized one's)
    /// compares them fairly.
    pub async fn evaluate(
        &self,
        image: &Image,
        content: &Image,
        styles: &[StyleImage<'_>],
        options: &StyleOptions,
    ) -> Result<Losses, StylizeError> {
        options.validate()?;
        check_styles(styles)?;
        check_masks([content.width(), content.height()], styles, None)?;
        let content = content.resize(image.width(), image.height());
        let side = image.width().max(image.height());
        let vgg = self.vgg.with_architecture(options.padding, options.pooling);
        let targets = targets(
            &vgg,
            &content,
            styles,
            None,
            options,
            side,
            min_side(options),
        );
        let image = image.to_tensor(&self.device);
        let terms = terms(&vgg, &image, &targets, options, None);
        Ok(Losses::from_terms(&read_scalars(terms.to_vec()).await?))
    }
}
