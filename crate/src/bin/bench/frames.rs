//! The bench's feed-forward tables: the picture alone (Quick mode), the network per video
//! frame, and the flicker of a panning clip.

use std::ops::ControlFlow;
use std::time::Instant;

use style_transfer::burn::tensor::Device;
use style_transfer::frames::flicker;
use style_transfer::native::Backend;
use style_transfer::{
    FastWeights, FramePainter, Image, Init, StyleImage, StyleOptions, Stylizer, VggWeights,
};

use crate::{ms, pattern};

/// Frames timed per size after the first.
const TIMED_FRAMES: u32 = 8;

/// Frames of the flicker clip.
const CLIP_FRAMES: u32 = 12;

/// The feed-forward picture alone (0 iterations, `init: "fast"`): style vector, painting and
/// the read back, first call (pipelines, allocation) and a second one.
pub fn fast_pictures(
    weights: &VggWeights,
    fast: &FastWeights,
    devices: &[(Backend, Device)],
    sizes: &[u32],
) {
    println!("\n| backend | size | feed-forward picture, first call | second call |");
    println!("| --- | --- | --- | --- |");
    for (backend, device) in devices {
        let stylizer = Stylizer::new(weights, device)
            .with_fast(fast)
            .expect("the network");
        for &size in sizes {
            let content = pattern(size, 1);
            let style = pattern(256, 7);
            let options = StyleOptions {
                size,
                iterations: 0,
                init: Init::Fast,
                ..Default::default()
            };
            let styles = [StyleImage {
                image: &style,
                blend: 1.0,
                mask: None,
            }];
            let mut times = Vec::new();
            for _ in 0..2 {
                let began = Instant::now();
                pollster::block_on(
                    stylizer.stylize(&content, &styles, &options, |_| ControlFlow::Continue(())),
                )
                .expect("feed-forward run");
                times.push(began.elapsed());
            }
            println!(
                "| {backend:?} | {size} | {} | {} |",
                ms(times[0]),
                ms(times[1])
            );
        }
    }
}

/// The network per frame of a moving picture ([`FramePainter`], Quick's picture of each frame,
/// the style vector computed once): the first frame (pipelines, allocation) apart, then the
/// mean of the next frames, each read back to the host, painted on their own and steadied.
pub fn frame_rates(
    weights: &VggWeights,
    fast: &FastWeights,
    devices: &[(Backend, Device)],
    sizes: &[u32],
) {
    if sizes.is_empty() {
        return;
    }
    println!(
        "\n| backend | frame size | first frame | ms a frame, on its own | ms a frame, steadied | frames a second, steadied |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let style = pattern(256, 7);
    let styles = [StyleImage {
        image: &style,
        blend: 1.0,
        mask: None,
    }];
    for (backend, device) in devices {
        let stylizer = Stylizer::new(weights, device)
            .with_fast(fast)
            .expect("the network");
        for &size in sizes {
            // A 4:3 window panning across a larger pattern, 2 px a frame.
            let scene = pattern(size + 4 * TIMED_FRAMES, 1);
            let clip: Vec<Image> = (0..=TIMED_FRAMES)
                .map(|k| scene.crop(2 * k, 0, size, size * 3 / 4))
                .collect();
            let mut cells = Vec::new();
            for frame_stability in [0.0, 0.6] {
                let options = StyleOptions {
                    size,
                    iterations: 0,
                    frame_stability,
                    ..Default::default()
                };
                let mut painter =
                    FramePainter::new(&stylizer, &clip[0], &styles, &options).expect("a painter");
                let began = Instant::now();
                pollster::block_on(painter.paint(&clip[0])).expect("a frame");
                let first = began.elapsed();
                let began = Instant::now();
                for frame in &clip[1..] {
                    pollster::block_on(painter.paint(frame)).expect("a frame");
                }
                cells.push((first, began.elapsed() / TIMED_FRAMES));
            }
            let per_frame = cells[1].1.as_secs_f64();
            println!(
                "| {backend:?} | {size}×{} | {} | {} | {} | {:.1} |",
                size * 3 / 4,
                ms(cells[0].0),
                ms(cells[0].1),
                ms(cells[1].1),
                1.0 / per_frame,
            );
        }
    }
}

/// The flicker table's clip: a window panning across `photo`, painted in `painting`'s style
/// at `size` px, with `steps` Gatys steps a frame in the refined rows.
pub struct Clip<'a> {
    pub photo: &'a Image,
    pub painting: &'a Image,
    pub size: u32,
    pub steps: u32,
}

/// Flicker ([`flicker`]) of a clip panning 1 px a frame (at the output size) across the photo,
/// painted by the network on each frame alone, steadied, and (with steps) refined by that
/// many Gatys steps per frame, each frame from its own picture or from the steadied last one.
/// On the first device only.
pub fn flicker_table(
    weights: &VggWeights,
    fast: &FastWeights,
    devices: &[(Backend, Device)],
    clip: &Clip<'_>,
) {
    let Clip {
        photo,
        painting,
        size,
        steps,
    } = *clip;
    let Some((backend, device)) = devices.first() else {
        return;
    };
    let stylizer = Stylizer::new(weights, device)
        .with_fast(fast)
        .expect("the network");
    // Windows twice the output size, 2 px apart: 1 px a frame in the output.
    let (w, h) = photo.size_for_long_side(2 * size + 2 * CLIP_FRAMES);
    let scene = photo.resize(w, h);
    let (cw, ch) = (w - 2 * CLIP_FRAMES, h.min((w - 2 * CLIP_FRAMES) * 3 / 4));
    let clip: Vec<Image> = (0..CLIP_FRAMES)
        .map(|k| scene.crop(2 * k, 0, cw, ch))
        .collect();
    let styles = [StyleImage {
        image: painting,
        blend: 1.0,
        mask: None,
    }];
    println!("\n| backend | clip | painted | steps a frame | flicker | ms a frame |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut rows = vec![("on its own", 0, 0.0), ("steadied", 0, 0.6)];
    if steps > 0 {
        rows.extend([
            ("refined from its own picture", steps, 0.0),
            (
                "refined from the steadied picture, steadied again",
                steps,
                0.6,
            ),
        ]);
    }
    for (label, iterations, frame_stability) in rows {
        let options = StyleOptions {
            size,
            iterations,
            frame_stability,
            ..Default::default()
        };
        let mut painter =
            FramePainter::new(&stylizer, &clip[0], &styles, &options).expect("a painter");
        let began = Instant::now();
        let outputs: Vec<Image> = (clip.iter())
            .map(|frame| pollster::block_on(painter.paint(frame)).expect("a frame"))
            .collect();
        let per_frame = began.elapsed() / CLIP_FRAMES;
        let (ow, oh) = (outputs[0].width(), outputs[0].height());
        let inputs: Vec<Image> = clip.iter().map(|f| f.resize(ow, oh)).collect();
        println!(
            "| {backend:?} | {CLIP_FRAMES} frames {ow}×{oh}, {:.1} px a frame | {label} | {iterations} | {:.4} | {} |",
            2.0 * ow as f64 / cw as f64,
            flicker(&inputs, &outputs),
            ms(per_frame),
        );
    }
}
