//! The style predictor: MobileNet-v2 up to its 1280-channel layer, pooled over the whole
//! picture, then a 1×1 convolution to the 100-number style vector; and the size it sees a
//! painting at.

use std::ops::RangeInclusive;

use burn::tensor::{Device, Tensor};

use super::{Conv, FastWeights, STYLE_DIM};
use crate::objective::style_size;
use crate::weights::WeightsError;

/// Sides of the square the style predictor may see a painting at. The network was trained
/// on 256 px squares; the predictor pools over the whole square, so any side works, and
/// this range keeps at least 4 × 4 cells to pool at the small end and its largest buffer
/// (96 channels at half the side) near 100 MB at the large end.
pub const STYLE_INPUT_SIDES: RangeInclusive<u32> = 128..=1024;
/// The predictor halves its input five times: at multiples of this every stride-2
/// convolution sees an even side and pads as the original graph does (it fixes its padding
/// for 256).
pub const STYLE_INPUT_MULTIPLE: u32 = 32;
/// Strides of MobileNet-v2's inverted residual blocks 1 to 16 (block 0 has stride 1).
const BOTTLENECK_STRIDES: [usize; 16] = [2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1];

fn relu6(x: Tensor<4>) -> Tensor<4> {
    x.clamp(0.0, 6.0)
}

/// An inverted residual block of MobileNet-v2.
#[derive(Debug, Clone)]
struct Bottleneck {
    expand: Option<Conv>,
    depthwise: Conv,
    project: Conv,
    residual: bool,
}

/// The style predictor: a painting's style vector.
#[derive(Debug, Clone)]
pub(super) struct Predictor {
    stem: Conv,
    blocks: Vec<Bottleneck>,
    head: Conv,
    style: Conv,
}

impl Predictor {
    pub(super) fn new(weights: &FastWeights, device: &Device) -> Result<Self, WeightsError> {
        let scope = |name: &str| format!("MobilenetV2/{name}");
        let stem = Conv::new(weights, &scope("Conv"), [32, 3, 3], 2, device)?;
        // Output channels of block 0 (no expansion) and of blocks 1..=16 (expansion 6).
        let outs = [
            16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320,
        ];
        let mut blocks = Vec::new();
        let mut cin = 32;
        for (i, &out) in outs.iter().enumerate() {
            let (block, stride) = match i {
                0 => ("expanded_conv".to_string(), 1),
                _ => (format!("expanded_conv_{i}"), BOTTLENECK_STRIDES[i - 1]),
            };
            let hidden = if i == 0 { cin } else { 6 * cin };
            let name = |part: &str| scope(&format!("{block}/{part}"));
            let expand = match i {
                0 => None,
                _ => Some(Conv::new(
                    weights,
                    &name("expand"),
                    [hidden, cin, 1],
                    1,
                    device,
                )?),
            };
            let depthwise = Conv::new(weights, &name("depthwise"), [hidden, 1, 3], stride, device)?;
            let project = Conv::new(weights, &name("project"), [out, hidden, 1], 1, device)?;
            blocks.push(Bottleneck {
                expand,
                depthwise,
                project,
                residual: stride == 1 && cin == out,
            });
            cin = out;
        }
        Ok(Self {
            stem,
            blocks,
            head: Conv::new(weights, &scope("Conv_1"), [1280, 320, 1], 1, device)?,
            style: Conv::new(
                weights,
                "mobilenet_conv/Conv",
                [STYLE_DIM, 1280, 1],
                1,
                device,
            )?,
        })
    }

    /// # Shapes
    /// `[n, 3, h, w]` RGB in `[0, 1]` → `[n, 100]`
    pub(super) fn forward(&self, rgb: Tensor<4>) -> Tensor<2> {
        let mut x = relu6(self.stem.forward_same(rgb));
        for block in &self.blocks {
            let mut h = x.clone();
            if let Some(expand) = &block.expand {
                h = relu6(expand.forward(h));
            }
            h = block
                .project
                .forward(relu6(block.depthwise.forward_same(h)));
            x = if block.residual { h + x } else { h };
        }
        let x = relu6(self.head.forward(x)).mean_dim(3).mean_dim(2);
        let [n, ..] = x.dims();
        self.style.forward(x).reshape([n, STYLE_DIM])
    }
}

/// The side of the centred square the predictor sees a `[width, height]` painting at for an
/// output whose long side is `side`: the painting's shorter side as the optimisation sees it
/// (its long side `style_scale × side`), rounded to a multiple of [`STYLE_INPUT_MULTIPLE`]
/// within [`STYLE_INPUT_SIDES`].
///
/// The network paints strokes at the scale the predictor saw the painting at. Seen at the
/// optimisation's scale, the fast start has the strokes the optimisation refines, instead of
/// ones it has to repaint at another size (at 512 px, a 256 px square gave strokes half the
/// size the optimisation wanted, and refining them blurred the picture).
pub fn style_input_side(size: [u32; 2], side: u32, style_scale: f32) -> u32 {
    // The objective's own sizing; its smallest side (the VGG layers' downsampling, at most
    // 16) lies below the range, so 1 here changes nothing after the clamp.
    let [width, height] = style_size(size, side, style_scale, 1);
    let short = f64::from(width.min(height));
    let multiple = f64::from(STYLE_INPUT_MULTIPLE);
    let rounded = (short / multiple).round() as u32 * STYLE_INPUT_MULTIPLE;
    rounded.clamp(*STYLE_INPUT_SIDES.start(), *STYLE_INPUT_SIDES.end())
}
