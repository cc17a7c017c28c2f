//! Moving pictures on the CPU backend: a slowly panning photo painted frame by frame, with
//! and without steadying.

mod common;

use common::*;
use style_transfer::frames::flicker;
use style_transfer::{FramePainter, Image, StyleImage, StyleOptions, StylizeError, Stylizer};

/// `frames` windows of `photo`, `width × height`, each 2 px right of the last: a slow pan.
fn pan(photo: &Image, frames: u32, (width, height): (u32, u32)) -> Vec<Image> {
    (0..frames)
        .map(|k| photo.crop(2 * k, 0, width, height))
        .collect()
}

/// The clip painted with `options`, and its inputs at the output size.
fn paint(
    stylizer: &Stylizer,
    clip: &[Image],
    painting: &Image,
    options: &StyleOptions,
) -> (Vec<Image>, Vec<Image>) {
    let styles = [StyleImage {
        image: painting,
        blend: 1.0,
        mask: None,
    }];
    let mut painter = FramePainter::new(stylizer, &clip[0], &styles, options).unwrap();
    let outputs: Vec<Image> = (clip.iter())
        .map(|frame| pollster::block_on(painter.paint(frame)).unwrap())
        .collect();
    let inputs = (clip.iter())
        .map(|f| f.resize(outputs[0].width(), outputs[0].height()))
        .collect();
    (inputs, outputs)
}

#[test]
fn steadied_frames_flicker_less_than_frames_painted_on_their_own() {
    let stylizer = Stylizer::new(&int8_weights(), &cpu())
        .with_fast(&fast_weights())
        .unwrap();
    let (photo, painting) = (fixture("photo.jpg"), fixture("painting.png"));
    // 160 × 106 windows of the photo at 1.5 times its size, painted at 80 px: the scene
    // moves 1 px a frame in the output.
    let clip = pan(&photo.resize(240, 159), 12, (160, 106));
    let options = |frame_stability| StyleOptions {
        size: 80,
        iterations: 0,
        frame_stability,
        ..StyleOptions::default()
    };
    let (inputs, plain) = paint(&stylizer, &clip, &painting, &options(0.0));
    let (_, steady) = paint(&stylizer, &clip, &painting, &options(0.6));
    assert_eq!((plain[0].width(), plain[0].height()), (80, 53));
    let (plain_flicker, steady_flicker) = (flicker(&inputs, &plain), flicker(&inputs, &steady));
    println!(
        "flicker at 80 px, 1 px a frame: plain {plain_flicker:.4}, steadied {steady_flicker:.4}"
    );
    // The network alone repaints its strokes on every frame: the pictures change more than
    // the scene.
    assert!(plain_flicker > 0.0, "{plain_flicker}");
    assert!(
        steady_flicker < 0.8 * plain_flicker,
        "{steady_flicker} vs {plain_flicker}"
    );
    // Steadying smooths, it does not freeze: each frame stays near its own painting.
    let apart: f64 = (plain.iter().zip(&steady))
        .map(|(a, b)| {
            let sum: f64 = (a.planar().iter().zip(b.planar()))
                .map(|(x, y)| f64::from((x - y).abs()))
                .sum();
            sum / a.planar().len() as f64
        })
        .fold(0.0, f64::max);
    assert!(
        apart < 0.06,
        "a steadied frame is {apart} from its own painting"
    );
}

#[test]
fn refined_frames_start_from_the_picture_given_and_masks_are_refused() {
    let stylizer = Stylizer::new(&int8_weights(), &cpu())
        .with_fast(&fast_weights())
        .unwrap();
    let (photo, painting) = (fixture("photo.jpg"), fixture("painting.png"));
    let clip = pan(&photo, 3, (96, 64));
    let options = StyleOptions {
        size: 48,
        iterations: 2,
        ..StyleOptions::default()
    };
    let (_, refined) = paint(&stylizer, &clip, &painting, &options);
    assert!(refined.iter().all(|f| (f.width(), f.height()) == (48, 32)));
    // A refined frame is not the network's picture: the steps changed it.
    let quick = StyleOptions {
        iterations: 0,
        ..options.clone()
    };
    let (_, fast) = paint(&stylizer, &clip, &painting, &quick);
    assert_ne!(refined[2], fast[2]);
    // The steps start from the picture given (`stylize_from`, which a refined frame gives its
    // steadied picture): from the photo itself, five steps stay far nearer the photo than the
    // network's painting is, and improve on it.
    let styles = [StyleImage {
        image: &painting,
        blend: 1.0,
        mask: None,
    }];
    let still = clip[0].resize(48, 32);
    let steps = StyleOptions {
        iterations: 5,
        ..options.clone()
    };
    let keep_going = |_| std::ops::ControlFlow::Continue(());
    let from_photo =
        pollster::block_on(stylizer.stylize_from(&clip[0], &still, &styles, &steps, keep_going))
            .unwrap();
    let distance = |a: &Image| {
        let sum: f32 = (a.planar().iter().zip(still.planar()))
            .map(|(x, y)| (x - y).abs())
            .sum();
        sum / a.planar().len() as f32
    };
    assert!(!from_photo.start_kept);
    let (near, far) = (distance(&from_photo.image), distance(&fast[0]));
    assert!(
        near < 0.5 * far,
        "{near} from the photo, the network's picture {far}"
    );
    let mask = style_transfer::Mask::from_values(2, 2, vec![1.0; 4]).unwrap();
    let masked = [StyleImage {
        image: &painting,
        blend: 1.0,
        mask: Some(&mask),
    }];
    let refused = FramePainter::new(&stylizer, &clip[0], &masked, &options);
    assert!(matches!(refused, Err(StylizeError::Masks(_))));
}
