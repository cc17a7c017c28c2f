//! What a run reports and returns: its losses, progress, result and errors. They serialize
//! with camelCase keys, as they reach JavaScript (`web.rs`); images are left out, for the
//! caller to send as pixels.

use burn::tensor::ExecutionError;
use serde::Serialize;

use crate::image::Image;
use crate::options::OptionsError;
use crate::profile::Phases;

/// The weighted loss terms of one iteration (`total` is their sum).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Losses {
    /// Content weight × content loss.
    pub content: f32,
    /// Style weight × style loss, over all style layers.
    pub style: f32,
    /// Total-variation weight × total variation.
    pub tv: f32,
    /// The objective.
    pub total: f32,
}

impl Losses {
    /// From the terms `[content, style, tv]` (further values are ignored).
    pub(crate) fn from_terms(terms: &[f32]) -> Self {
        let [content, style, tv] = terms[..3] else {
            unreachable!("three terms")
        };
        Self {
            content,
            style,
            tv,
            total: content + style + tv,
        }
    }
}

/// What the engine reports after each iteration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Iterations done, counting all scales: 0 for the starting picture, then from 1. During
    /// a tiled iteration, the iteration in progress.
    pub iteration: u32,
    /// The tile just finished, in the reports sent during a tiled iteration (no losses, no
    /// image yet); `None` in the report of a finished iteration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tile: Option<TileProgress>,
    /// Iterations in the whole run.
    pub total: u32,
    /// Index of the current scale, from 0.
    pub scale: usize,
    /// Number of scales.
    pub scales: usize,
    /// Width of the image at this scale.
    pub width: u32,
    /// Height of the image at this scale.
    pub height: u32,
    /// Loss terms of the image this iteration started from; `None` in the report of the
    /// starting picture (iteration 0), sent first when it is the fast start.
    pub losses: Option<Losses>,
    /// The best picture so far at the output size, every
    /// [`StyleOptions::preview_every`](crate::StyleOptions::preview_every) iterations: the
    /// best point of this scale, carried to the output size with the start's detail (the
    /// start itself in the first report).
    #[serde(skip)]
    pub image: Option<Image>,
    /// Where this iteration's time went.
    pub phases: Phases,
}

/// A tile finished within a tiled iteration: which one, and where it lies, so that a preview
/// can show the iteration sweeping the picture (the pixels change only at the iteration's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TileProgress {
    /// Tiles finished in this iteration, from 1.
    pub done: u32,
    /// Tiles in each iteration at this scale.
    pub count: u32,
    /// The finished tile's interior, the pixels whose gradient it gave, at this scale (its
    /// fields sit beside `done` and `count` when serialized).
    #[serde(flatten)]
    pub region: Rect,
}

/// A rectangle of pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stylized {
    /// The stylized image, at [`StyleOptions::size`](crate::StyleOptions::size).
    #[serde(skip)]
    pub image: Image,
    /// Loss terms of the result; `None` when no iteration ran (Quick mode).
    pub losses: Option<Losses>,
    /// Iterations run.
    pub iterations: u32,
    /// Whether no step improved on the starting picture, so that it is the result (the run
    /// had too few steps to find anything better at the output size); false in Quick mode.
    pub start_kept: bool,
}

/// Why a run did not produce an image.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StylizeError {
    /// An option is out of range.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// No style image, or blend weights that do not add up to anything.
    #[error("{0}")]
    Styles(String),
    /// A mask that cannot guide the run: not the photo's shape, or masks that leave no
    /// painting anything to paint.
    #[error("{0}")]
    Masks(String),
    /// The content image is too thin for the network at this size.
    #[error(
        "the content image is too narrow: at size {size} its shorter side would be under {min} pixels"
    )]
    TooNarrow {
        /// Requested output size.
        size: u32,
        /// Smallest side the network needs.
        min: u32,
    },
    /// The device (GPU or CPU backend) failed, for example a lost WebGPU device.
    #[error("the compute device failed: {0}")]
    Device(String),
    /// The loss stopped being a finite number.
    #[error(
        "the optimisation diverged at iteration {0} (the loss is not a finite number); try a lower style weight or the Adam optimiser"
    )]
    Diverged(u32),
    /// The fast start or Quick mode was asked for, but the feed-forward network is not
    /// loaded ([`Stylizer::with_fast`](crate::Stylizer::with_fast)).
    #[error("init \"fast\" needs the feed-forward network, which is not loaded")]
    NoFastNetwork,
    /// The run needs a buffer larger than the device allows in one piece
    /// ([`Stylizer::with_max_buffer`](crate::Stylizer::with_max_buffer)).
    #[error(
        "too large for this GPU: {what} takes {} MB in one buffer, and this GPU allows {} MB; choose a smaller size (or memory budget) or the CPU",
        needed.div_ceil(1_000_000),
        limit / 1_000_000
    )]
    TooLarge {
        /// Bytes of the largest buffer the run needs.
        needed: u64,
        /// The device's largest buffer, in bytes.
        limit: u64,
        /// What that buffer holds, for people.
        what: &'static str,
    },
    /// The progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl From<ExecutionError> for StylizeError {
    /// Keeps the chain of causes on one line and drops the backtrace.
    fn from(e: ExecutionError) -> Self {
        let text = e.to_string();
        let causes = text.split("Backtrace:").next().unwrap_or_default();
        Self::Device(causes.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn picture() -> Image {
        Image::from_planar(2, 1, vec![0.5; 6]).unwrap()
    }

    #[test]
    fn progress_serializes_as_javascript_receives_it_without_its_image() {
        let progress = Progress {
            iteration: 3,
            tile: Some(TileProgress {
                done: 2,
                count: 12,
                region: Rect {
                    x: 10,
                    y: 20,
                    width: 30,
                    height: 40,
                },
            }),
            total: 9,
            scale: 1,
            scales: 2,
            width: 64,
            height: 48,
            losses: None,
            image: Some(picture()),
            phases: Phases {
                network: 1.5,
                ..Phases::default()
            },
        };
        let expected = json!({
            "iteration": 3, "total": 9, "scale": 1, "scales": 2, "width": 64, "height": 48,
            "losses": null,
            "tile": {"done": 2, "count": 12, "x": 10, "y": 20, "width": 30, "height": 40},
            "phases": {"network": 1.5, "read": 0.0, "optimizer": 0.0, "preview": 0.0},
        });
        assert_eq!(serde_json::to_value(&progress).unwrap(), expected);

        // A finished iteration's report has losses and no tile.
        let losses = Losses::from_terms(&[1.0, 2.0, 0.5]);
        let finished = Progress {
            tile: None,
            losses: Some(losses),
            ..progress
        };
        let value = serde_json::to_value(&finished).unwrap();
        assert_eq!(value.get("tile"), None);
        let terms = json!({"content": 1.0, "style": 2.0, "tv": 0.5, "total": 3.5});
        assert_eq!(value["losses"], terms);
    }

    #[test]
    fn a_result_serializes_its_numbers_and_leaves_its_image_to_the_caller() {
        let result = Stylized {
            image: picture(),
            losses: None,
            iterations: 0,
            start_kept: false,
        };
        let expected = json!({"losses": null, "iterations": 0, "startKept": false});
        assert_eq!(serde_json::to_value(&result).unwrap(), expected);
    }
}
