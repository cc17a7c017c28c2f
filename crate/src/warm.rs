//! Compiling a GPU's shader pipelines before the user's first run.
//!
//! On WebGPU every kernel variant a run meets for the first time is compiled then and there;
//! on SwiftShader that is seconds of the first iteration. A tiny run when the engine starts,
//! with the options a real run uses, compiles them while the user is still choosing images.

use std::ops::ControlFlow;

use crate::engine::{StylizeError, Stylizer};
use crate::mask::Mask;
use crate::options::StyleOptions;
use crate::start::noise;
use crate::style::StyleImage;

/// The warm-up's photos, `(width, height)` in pixels, each run at one scale, small enough to
/// cost little beyond the compiling (16 and 17 px high: the least that keeps a row at
/// `relu5_1`). Kernels are vectorized by what divides the tensors' widths, and each
/// vectorization is a pipeline of its own: a width of 64 keeps every layer's width down to
/// `relu5_1` a multiple of 4, as landscape photos at the usual sizes do; 51, odd after one
/// pooling and after four, gets most of the variants that portrait and odd-sized photos
/// need (a portrait photo still compiled 16 new pipelines of about 100 on SwiftShader).
pub const WARM_UP_SIZES: [(u32, u32); 2] = [(64, 16), (51, 17)];

impl Stylizer {
    /// Runs `options` (two iterations, a preview of each) on synthetic photos of
    /// [`WARM_UP_SIZES`] and a painting, so that the device compiles the pipelines of a real
    /// run: the first without masks, the second with two paintings in masked regions and a
    /// kept one (the guided style term's pipelines). `options.init` is kept (the fast start,
    /// by default) when the feed-forward network is loaded, else the runs start from the
    /// photo.
    pub async fn warm_up(&self, options: &StyleOptions) -> Result<(), StylizeError> {
        let painting = noise(64, 64, 2);
        let [_, (w, h)] = WARM_UP_SIZES;
        let third = |k: u32| {
            let values = (0..w * h).map(|i| f32::from(u8::from((i % w) * 3 / w == k)));
            Mask::from_values(w, h, values.collect()).expect("w × h values")
        };
        let (left, middle, right) = (third(0), third(1), third(2));
        let unguided = [StyleImage {
            image: &painting,
            blend: 1.0,
            mask: None,
        }];
        let guided = [
            StyleImage {
                image: &painting,
                blend: 1.0,
                mask: Some(&left),
            },
            StyleImage {
                image: &painting,
                blend: 1.0,
                mask: Some(&right),
            },
        ];
        let runs = [(&unguided[..], None), (&guided[..], Some(&middle))];
        for ((width, height), (styles, keep)) in WARM_UP_SIZES.into_iter().zip(runs) {
            let options = StyleOptions {
                size: width.max(height),
                min_scale: width.max(height),
                iterations: 2,
                preview_every: 1,
                init: match self.fast().is_some() {
                    true => options.init,
                    false => crate::Init::Content,
                },
                ..options.clone()
            };
            let content = noise(width, height, 1);
            self.stylize_keeping(&content, keep, styles, &options, |_| {
                ControlFlow::Continue(())
            })
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{cpu, synthetic_vgg};

    #[test]
    fn warm_up_runs_without_the_fast_network() {
        let stylizer = Stylizer::new(&synthetic_vgg(), &cpu());
        pollster::block_on(stylizer.warm_up(&StyleOptions::default())).unwrap();
    }
}
