//! Judging finished pictures with a network other than the one that made them (the float
//! VGG16 judging the quantized one's work), as ratios that read the same for every pair:
//! how far a picture is from the painting's style and from the photo's content, and how
//! sharp it is.

use crate::color::sharpness;
use crate::engine::{StylizeError, Stylizer};
use crate::image::Image;
use crate::onnx::OnnxError;
use crate::options::StyleOptions;
use crate::style::StyleImage;

/// A picture's distances, each relative to a picture that marks 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Style loss against the painting, over the photo's (1: no more painted than the
    /// untouched photo; lower is more like the painting), with Gram matrices.
    pub style: f32,
    /// The same with the Wasserstein style loss (the features' mean and covariance).
    pub style_wasserstein: f32,
    /// Content loss against the photo, over the painting's (1: as far from the photo as the
    /// painting itself; lower keeps more of the photo).
    pub content: f32,
    /// [`sharpness`](crate::color::sharpness) of the picture itself.
    pub sharpness: f64,
}

/// A judge: a stylizer whose network (ideally not the one that made the pictures) scores
/// them with the default objective at the picture's size.
#[derive(Debug)]
pub struct Judge {
    stylizer: Stylizer,
}

impl Judge {
    /// Judges with `stylizer`'s network.
    pub fn new(stylizer: Stylizer) -> Self {
        Self { stylizer }
    }

    /// Judges with the float VGG16 of an ONNX file's bytes (the original network, the one
    /// ONNX Runtime runs in the reference tests) on `device`.
    pub fn from_onnx(bytes: &[u8], device: &burn::tensor::Device) -> Result<Self, OnnxError> {
        let float = crate::weights::VggWeights::from_onnx(bytes)?;
        Ok(Self::new(Stylizer::new(&float, device)))
    }

    /// How `picture`, made from `photo` in the style of `painting`, compares with the
    /// untouched photo (style) and with the painting (content), all at `picture`'s size.
    pub async fn judge(
        &self,
        picture: &Image,
        photo: &Image,
        painting: &Image,
    ) -> Result<Verdict, StylizeError> {
        let (w, h) = (picture.width(), picture.height());
        let options = StyleOptions {
            size: w.max(h),
            ..StyleOptions::default()
        };
        let styles = [StyleImage {
            image: painting,
            blend: 1.0,
            mask: None,
        }];
        let wasserstein = StyleOptions {
            style_loss: crate::options::StyleLoss::Wasserstein,
            ..options.clone()
        };
        let (unpainted, painted) = (photo.resize(w, h), painting.resize(w, h));
        let score = |image, options| self.stylizer.evaluate(image, photo, &styles, options);
        let own = score(picture, &options).await?;
        let unpainted_gram = score(&unpainted, &options).await?;
        let painted = score(&painted, &options).await?;
        let own_wasserstein = score(picture, &wasserstein).await?;
        let unpainted_wasserstein = score(&unpainted, &wasserstein).await?;
        Ok(Verdict {
            style: own.style / unpainted_gram.style,
            style_wasserstein: own_wasserstein.style / unpainted_wasserstein.style,
            content: own.content / painted.content,
            sharpness: sharpness(picture),
        })
    }
}
