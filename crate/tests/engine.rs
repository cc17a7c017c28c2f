//! Short real runs of the engine on the CPU backend.

mod common;

use std::ops::ControlFlow;

use common::*;
use style_transfer::burn::tensor::Tensor;
use style_transfer::color::{luminance, sharpness};
use style_transfer::fast::{STYLE_INPUT_SIDES, style_input_side};
use style_transfer::options::MIN_SCALE_ITERATIONS;
use style_transfer::{
    Colors, FastNetwork, Image, Init, Optimizer, Progress, StyleImage, StyleOptions, StylizeError,
    Stylized, Stylizer, TileProgress,
};

fn run(
    stylizer: &Stylizer,
    content: &Image,
    styles: &[StyleImage<'_>],
    options: &StyleOptions,
) -> (Result<Stylized, StylizeError>, Vec<Progress>) {
    let mut reports = Vec::new();
    let result = pollster::block_on(stylizer.stylize(content, styles, options, |p| {
        reports.push(p);
        ControlFlow::Continue(())
    }));
    (result, reports)
}

/// The painting alone, with weight 1.
fn only(painting: &Image) -> [StyleImage<'_>; 1] {
    [StyleImage {
        image: painting,
        blend: 1.0,
        mask: None,
    }]
}

/// Default options at `size` px for `iterations` steps, starting from the photo: these tests
/// follow the optimisation itself (the fast start has its own tests below).
fn sized(size: u32, iterations: u32) -> StyleOptions {
    StyleOptions {
        size,
        iterations,
        init: Init::Content,
        ..Default::default()
    }
}

/// The `faithful` look's content weight.
fn faithful_content_weight() -> f32 {
    let looks = style_transfer::options::LOOKS;
    looks
        .iter()
        .find(|l| l.name == "faithful")
        .unwrap()
        .content_weight
}

fn setup() -> (Stylizer, Image, Image) {
    (
        Stylizer::new(&int8_weights(), &cpu())
            .with_fast(&fast_weights())
            .unwrap(),
        fixture("photo.jpg"),
        fixture("painting.png"),
    )
}

/// ‖relu4_2(a) − relu4_2(b)‖ / ‖relu4_2(b)‖.
fn content_error(stylizer: &Stylizer, a: &Image, b: &Image) -> f64 {
    let layer = [style_transfer::VggLayer::Relu4_2];
    let d = stylizer.device();
    let features = |i: &Image| read(stylizer.vgg().features(i.to_tensor(d), &layer).remove(0));
    relative_error(&features(a), &features(b))
}

#[test]
fn a_short_run_cuts_the_style_loss_and_keeps_the_content() {
    let (stylizer, photo, painting) = setup();
    // The faithful look: at the painterly one's balance 30 steps at 64 px move relu4_2 0.8
    // of the way to an unrelated image's, by design.
    let options = StyleOptions {
        content_weight: faithful_content_weight(),
        ..sized(64, 30)
    };
    let styles = only(&painting);
    let (result, reports) = run(&stylizer, &photo, &styles, &options);
    let result = result.unwrap();
    assert_eq!(reports.len(), 30);
    let first = reports[0].losses.unwrap().style;
    let last = result.losses.unwrap().style;
    println!(
        "style loss {first:.4e} -> {last:.4e} ({:.1}x)",
        first / last
    );
    assert!(
        first > 5.0 * last,
        "style loss only went from {first} to {last}"
    );
    // Content kept: the output's relu4_2 features (what the content loss compares) stay
    // near the photo's, relative to their size; an unrelated image is off by about 100 %.
    let (w, h) = photo.size_for_long_side(64);
    assert_eq!((result.image.width(), result.image.height()), (w, h));
    let photo = photo.resize(w, h);
    let kept = content_error(&stylizer, &result.image, &photo);
    let unrelated = content_error(&stylizer, &painting.resize(w, h), &photo);
    println!("relu4_2 relative error to the photo: output {kept:.3}, painting {unrelated:.3}");
    assert!(kept < 0.75 * unrelated);
    // And it changed: the result is not the photo.
    let change = relative_error(result.image.planar(), photo.planar());
    assert!(
        change > 0.02,
        "the output barely differs from the photo ({change})"
    );
}

#[test]
fn adam_also_reduces_the_objective() {
    let (stylizer, photo, painting) = setup();
    let options = StyleOptions {
        size: 48,
        iterations: 20,
        optimizer: Optimizer::Adam,
        init: Init::Content,
        ..Default::default()
    };
    let (result, reports) = run(&stylizer, &photo, &only(&painting), &options);
    let last = result.unwrap().losses.unwrap().total;
    assert!(
        reports[0].losses.unwrap().total > 2.0 * last,
        "{} -> {last}",
        reports[0].losses.unwrap().total
    );
}

#[test]
fn coarse_to_fine_grows_the_image_and_carries_the_result_over() {
    let (stylizer, photo, painting) = setup();
    let options = StyleOptions {
        size: 64,
        min_scale: 32,
        iterations: 3 * MIN_SCALE_ITERATIONS,
        preview_every: MIN_SCALE_ITERATIONS,
        init: Init::Content,
        ..Default::default()
    };
    assert_eq!(options.scales(), vec![32, 45, 64]);
    let styles = only(&painting);
    let (result, reports) = run(&stylizer, &photo, &styles, &options);
    let result = result.unwrap();
    let widths: Vec<u32> = reports.iter().map(|p| p.width).collect();
    let m = MIN_SCALE_ITERATIONS as usize;
    assert_eq!(widths, [vec![32; m], vec![45; m], vec![64; m]].concat());
    assert!(
        reports
            .iter()
            .all(|p| p.scales == 3 && p.total == 3 * m as u32)
    );
    // Previews come at the end of each scale here, at the output size whatever the scale.
    let previews: Vec<(u32, u32)> = reports
        .iter()
        .filter_map(|p| p.image.as_ref().map(|i| (p.iteration, i.width())))
        .collect();
    let m32 = m as u32;
    assert_eq!(previews, vec![(m32, 64), (2 * m32, 64), (3 * m32, 64)]);
    assert_eq!(result.image.width(), 64);
    // The first scale starts from the photo (content loss exactly 0 there); each later one
    // starts from the result of the scale before, carried up, and then scores the photo at
    // its own size (exactly 0 again), which the optimisation leaves behind.
    assert_eq!(reports[0].losses.unwrap().content, 0.0);
    for start in [m, 2 * m] {
        let carried = reports[start].losses.unwrap();
        assert!(
            carried.content > 0.0,
            "scale starting at {start} restarted from the photo"
        );
        assert_eq!(reports[start + 1].losses.unwrap().content, 0.0);
        assert!(reports[start + 2].losses.unwrap().content > 0.0);
    }
    assert!(!result.start_kept);
}

/// Short runs never end worse than they start: from 1 step to three scales' worth, from the
/// default fast start, the result scores at most the start's objective at the output size,
/// and keeps at least 0.8 of the start's sharpness (the variance of its Laplacian). Before
/// the start was made at the output size and carried through the scales, and before each
/// scale got [`MIN_SCALE_ITERATIONS`], 10 steps over three scales ended blurred and less
/// painted than the photo.
#[test]
fn short_runs_never_end_worse_than_they_start() {
    let (stylizer, photo, painting) = setup();
    let styles = only(&painting);
    let m = MIN_SCALE_ITERATIONS;
    for steps in [1, 3, 5, 10, m, 2 * m, 3 * m] {
        let options = StyleOptions {
            size: 96,
            min_scale: 48,
            iterations: steps,
            preview_every: steps,
            ..Default::default()
        };
        let (result, reports) = run(&stylizer, &photo, &styles, &options);
        let result = result.unwrap();
        let start = reports[0].image.as_ref().expect("the start comes first");
        let score = |image: &Image| {
            let run = stylizer.evaluate(image, &photo, &styles, &options);
            pollster::block_on(run).unwrap().total
        };
        let (before, after) = (score(start), score(&result.image));
        let kept = sharpness(&result.image) / sharpness(start);
        let scales = reports.last().unwrap().scales;
        println!(
            "{steps} steps, {scales} scales: objective {after:.4e} / start's {before:.4e} = {:.3}, \
             sharpness {kept:.2} of the start's, start kept: {}",
            after / before,
            result.start_kept
        );
        // The result's own objective is below the start's; clamping to displayable values
        // as it is read back can move it by less than 0.1 %.
        assert!(after <= before * 1.001, "{steps} steps: {after} > {before}");
        assert!(
            kept >= 0.8,
            "{steps} steps: sharpness {kept} of the start's"
        );
        assert_eq!(
            (result.image.width(), result.image.height()),
            (start.width(), start.height())
        );
    }
}

/// Every picture a run shows is the best so far: at the output size their objective never
/// rises from one report to the next, starting from the start's.
#[test]
fn every_picture_shown_at_the_output_size_is_the_best_so_far() {
    let (stylizer, photo, painting) = setup();
    let styles = only(&painting);
    let options = StyleOptions {
        size: 96,
        iterations: 12,
        preview_every: 1,
        ..Default::default()
    };
    let (result, reports) = run(&stylizer, &photo, &styles, &options);
    let result = result.unwrap();
    let score = |image: &Image| {
        let run = stylizer.evaluate(image, &photo, &styles, &options);
        pollster::block_on(run).unwrap().total
    };
    let shown: Vec<f32> = reports
        .iter()
        .map(|r| score(r.image.as_ref().expect("a picture in every report")))
        .collect();
    println!("objective of the pictures shown: {shown:?}");
    for pair in shown.windows(2) {
        assert!(pair[1] <= pair[0] * 1.001, "{shown:?}");
    }
    assert!(score(&result.image) <= shown[0]);
    // The reports' losses are those of the point each step evaluated: L-BFGS tries points
    // that score worse and goes back, but the picture shown never does.
    let evaluated: Vec<f32> = reports[1..]
        .iter()
        .map(|r| r.losses.unwrap().total)
        .collect();
    let best = evaluated.iter().copied().fold(f32::INFINITY, f32::min);
    assert!((result.losses.unwrap().total - best).abs() <= 1e-6 * best);
}

fn chroma(image: &Image) -> Vec<f32> {
    // U and V as differences from luminance, per pixel.
    let y = luminance(image);
    let n = image.pixel_count();
    let p = image.planar();
    (0..n)
        .flat_map(|i| [p[2 * n + i] - y[i], p[i] - y[i]])
        .collect()
}

/// Each colour mode's defining property (Gatys et al. 2017, §5): `photo` and `luminance`
/// give the photo's chroma with a stylized luminance; `match` takes the painting's style in
/// the photo's palette, so the result's colours are nearer the photo's than the plain run's.
#[test]
fn each_colour_mode_gives_the_colours_it_names() {
    let (stylizer, photo, painting) = setup();
    let styles = only(&painting);
    let base = sized(48, 12);
    let with = |colors| {
        let options = StyleOptions {
            colors,
            ..base.clone()
        };
        run(&stylizer, &photo, &styles, &options).0.unwrap().image
    };
    let plain = with(Colors::Painting);
    let photo = photo.resize(plain.width(), plain.height());
    let chroma_error = |image: &Image| relative_error(&chroma(image), &chroma(&photo));
    for colors in [Colors::Photo, Colors::Luminance] {
        let kept = with(colors);
        let (kept_error, plain_error) = (chroma_error(&kept), chroma_error(&plain));
        println!("{colors:?}: chroma error vs the photo {kept_error:.3} (plain {plain_error:.3})");
        assert!(
            kept_error < 0.1 && kept_error < 0.5 * plain_error,
            "{colors:?}"
        );
        // The luminance is stylized, not the photo's.
        let y_change = relative_error(&luminance(&kept), &luminance(&photo));
        assert!(
            y_change > 0.05,
            "{colors:?}: luminance barely changed ({y_change})"
        );
    }
    // `photo` puts the photo's chroma on the plain run's result: same luminance.
    let y_error = relative_error(&luminance(&with(Colors::Photo)), &luminance(&plain));
    assert!(
        y_error < 0.02,
        "luminance differs from the plain run's by {y_error}"
    );
    let mean = |image: &Image| {
        let n = image.pixel_count();
        [0, 1, 2].map(|c| image.planar()[c * n..(c + 1) * n].iter().sum::<f32>() / n as f32)
    };
    let distance = |image: &Image| {
        let (a, b) = (mean(image), mean(&photo));
        (0..3).map(|c| (a[c] - b[c]).powi(2)).sum::<f32>().sqrt()
    };
    let (matched, plain) = (distance(&with(Colors::Match)), distance(&plain));
    println!("mean colour's distance from the photo's: match {matched:.3}, plain {plain:.3}");
    assert!(matched < 0.5 * plain, "match {matched}, plain {plain}");
}

#[test]
fn blend_weights_mix_the_style_targets() {
    let (stylizer, photo, painting) = setup();
    let options = sized(32, 2);
    let solo = run(&stylizer, &photo, &only(&painting), &options);
    let with_zero = run(
        &stylizer,
        &photo,
        &[
            StyleImage {
                image: &painting,
                blend: 3.0,
                mask: None,
            },
            StyleImage {
                image: &photo,
                blend: 0.0,
                mask: None,
            },
        ],
        &options,
    );
    let half = run(
        &stylizer,
        &photo,
        &[
            StyleImage {
                image: &painting,
                blend: 1.0,
                mask: None,
            },
            StyleImage {
                image: &photo,
                blend: 1.0,
                mask: None,
            },
        ],
        &options,
    );
    let style = |r: &(Result<Stylized, StylizeError>, Vec<Progress>)| r.1[0].losses.unwrap().style;
    let (a, b, c) = (style(&solo), style(&with_zero), style(&half));
    assert!(
        (a - b).abs() <= 1e-4 * a,
        "a zero-weight style changed the target: {a} vs {b}"
    );
    // Half of the target is the photo's own style, so the photo is much closer to it.
    assert!(c < 0.6 * a, "blending in the photo's style: {c} vs {a}");
}

#[test]
fn noise_start_is_reproducible_from_its_seed() {
    let (stylizer, photo, painting) = setup();
    let styles = only(&painting);
    let options = StyleOptions {
        size: 32,
        iterations: 2,
        init: Init::Noise,
        seed: 7,
        ..Default::default()
    };
    let a = run(&stylizer, &photo, &styles, &options).0.unwrap().image;
    let b = run(&stylizer, &photo, &styles, &options).0.unwrap().image;
    let c = run(
        &stylizer,
        &photo,
        &styles,
        &StyleOptions {
            seed: 8,
            ..options.clone()
        },
    )
    .0
    .unwrap()
    .image;
    assert!(relative_error(a.planar(), b.planar()) < 1e-6);
    assert!(relative_error(a.planar(), c.planar()) > 1e-2);
}

#[test]
fn cancelling_stops_within_one_iteration() {
    let (stylizer, photo, painting) = setup();
    let options = sized(32, 50);
    let mut calls = 0;
    let result = pollster::block_on(stylizer.stylize(&photo, &only(&painting), &options, |p| {
        calls += 1;
        if p.iteration == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }));
    assert_eq!(result.unwrap_err(), StylizeError::Cancelled);
    assert_eq!(calls, 3);
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let (stylizer, photo, painting) = setup();
    let style = only(&painting);
    let small = sized(32, 1);
    let expect_err = |styles: &[StyleImage<'_>], content: &Image, options: &StyleOptions| {
        let (result, reports) = run(&stylizer, content, styles, options);
        assert!(reports.is_empty());
        result.unwrap_err()
    };
    assert!(matches!(
        expect_err(&[], &photo, &small),
        StylizeError::Styles(_)
    ));
    let negative = [StyleImage {
        image: &painting,
        blend: -1.0,
        mask: None,
    }];
    assert!(matches!(
        expect_err(&negative, &photo, &small),
        StylizeError::Styles(_)
    ));
    let zero = [StyleImage {
        image: &painting,
        blend: 0.0,
        mask: None,
    }];
    assert!(matches!(
        expect_err(&zero, &photo, &small),
        StylizeError::Styles(_)
    ));
    let bad = StyleOptions {
        size: 1,
        ..small.clone()
    };
    assert!(matches!(
        expect_err(&style, &photo, &bad),
        StylizeError::Options(_)
    ));
    let bad = StyleOptions {
        tv_weight: f32::NAN,
        ..small.clone()
    };
    assert!(matches!(
        expect_err(&style, &photo, &bad),
        StylizeError::Options(_)
    ));
    let sliver = Image::from_planar(400, 4, vec![0.5; 4800]).unwrap();
    assert!(matches!(
        expect_err(&style, &sliver, &small),
        StylizeError::TooNarrow { .. }
    ));
    // A tiny or extreme style image is enlarged, not refused.
    let speck = Image::from_planar(3, 2, vec![0.2; 18]).unwrap();
    let tiny = [StyleImage {
        image: &speck,
        blend: 1.0,
        mask: None,
    }];
    run(&stylizer, &photo, &tiny, &small).0.unwrap();
}

fn mean_abs_difference(a: &Image, b: &Image) -> f32 {
    let (a, b) = (a.planar(), b.planar());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
}

#[test]
fn fast_start_reports_a_painted_picture_first_then_refines_it() {
    let (stylizer, photo, painting) = setup();
    let options = StyleOptions {
        init: Init::Fast,
        preview_every: 2,
        ..sized(64, 4)
    };
    let (result, reports) = run(&stylizer, &photo, &only(&painting), &options);
    let result = result.unwrap();
    let first = &reports[0];
    assert_eq!((first.iteration, first.losses), (0, None));
    let picture = first
        .image
        .as_ref()
        .expect("the first report carries the picture");
    let photo_here = photo.resize(picture.width(), picture.height());
    let changed = mean_abs_difference(picture, &photo_here);
    assert!(
        changed > 0.05,
        "the first picture is nearly the photo: {changed}"
    );
    // It is the network's picture (`fast_mix` 1, the default).
    let network = FastNetwork::new(&fast_weights(), &cpu()).unwrap();
    // At 64 px the predictor sees the painting at its smallest side.
    let side = style_input_side([painting.width(), painting.height()], 64, 1.0);
    assert_eq!(side, *STYLE_INPUT_SIDES.start());
    let painted = network.paint(
        photo_here.to_tensor(&cpu()),
        network.style_vector(&painting, side),
    );
    let expected = pollster::block_on(Image::from_tensor(painted.clone())).unwrap();
    let difference = mean_abs_difference(picture, &expected);
    assert!(difference < 1e-5, "{difference}");
    let iterations: Vec<u32> = reports.iter().map(|r| r.iteration).collect();
    assert_eq!(iterations, [0, 1, 2, 3, 4]);
    assert!(reports[1..].iter().all(|r| r.losses.is_some()));
    // Gatys lowers the objective from there.
    let start = reports[1].losses.unwrap().total;
    assert!(result.losses.unwrap().total < start);

    // `fast_mix` mixes it with the photo: half and half here.
    let half = StyleOptions {
        fast_mix: 0.5,
        ..options
    };
    let (_, reports) = run(&stylizer, &photo, &only(&painting), &half);
    let mixed = painted.mul_scalar(0.5) + photo_here.to_tensor(&cpu()).mul_scalar(0.5);
    let mixed = pollster::block_on(Image::from_tensor(mixed)).unwrap();
    let difference = mean_abs_difference(reports[0].image.as_ref().unwrap(), &mixed);
    assert!(difference < 1e-5, "{difference}");
}

#[test]
fn quick_mode_is_the_network_picture_at_full_size() {
    let (stylizer, photo, painting) = setup();
    let second = fixture("photo.jpg");
    let options = StyleOptions {
        init: Init::Fast,
        ..sized(200, 0)
    };
    // Two paintings blend by the weighted average of their style vectors.
    let styles = [
        StyleImage {
            image: &painting,
            blend: 3.0,
            mask: None,
        },
        StyleImage {
            image: &second,
            blend: 1.0,
            mask: None,
        },
    ];
    let (result, reports) = run(&stylizer, &photo, &styles, &options);
    let result = result.unwrap();
    assert_eq!((result.iterations, result.losses), (0, None));
    assert_eq!(reports.len(), 1);
    let (w, h) = photo.size_for_long_side(200);
    assert_eq!((result.image.width(), result.image.height()), (w, h));

    let network = FastNetwork::new(&fast_weights(), &cpu()).unwrap();
    let side = |image: &Image| style_input_side([image.width(), image.height()], 200, 1.0);
    let style: Tensor<2> = network
        .style_vector(&painting, side(&painting))
        .mul_scalar(0.75)
        + network
            .style_vector(&second, side(&second))
            .mul_scalar(0.25);
    let expected = network.paint(photo.resize(w, h).to_tensor(&cpu()), style);
    let expected = pollster::block_on(Image::from_tensor(expected)).unwrap();
    let difference = mean_abs_difference(&result.image, &expected);
    assert!(difference < 1e-5, "{difference}");
}

#[test]
fn fast_strength_moves_the_picture_towards_the_photo() {
    let (stylizer, photo, painting) = setup();
    let quick = |fast_strength| StyleOptions {
        init: Init::Fast,
        fast_strength,
        ..sized(96, 0)
    };
    let distance = |strength| {
        let (result, _) = run(&stylizer, &photo, &only(&painting), &quick(strength));
        let image = result.unwrap().image;
        mean_abs_difference(&image, &photo.resize(image.width(), image.height()))
    };
    let (none, half, full) = (distance(0.0), distance(0.5), distance(1.0));
    println!("distance to the photo at strength 0, 0.5, 1: {none:.3} {half:.3} {full:.3}");
    assert!(none < half && half < full, "{none} {half} {full}");
}

#[test]
fn fast_start_without_the_network_is_a_clear_error() {
    let stylizer = Stylizer::new(&int8_weights(), &cpu());
    let (photo, painting) = (fixture("photo.jpg"), fixture("painting.png"));
    let options = StyleOptions {
        init: Init::Fast,
        ..sized(64, 2)
    };
    let (result, reports) = run(&stylizer, &photo, &only(&painting), &options);
    assert_eq!(result.unwrap_err(), StylizeError::NoFastNetwork);
    assert!(reports.is_empty());
}

/// A 336 × 223 image (75k pixels) goes over the smallest memory budget, 128 MiB (67k pixels
/// whole), so it runs in 12 tiles of 96 px with 80 px halos. Its run follows the whole run:
/// the same objective and gradient up to float rounding, so two L-BFGS steps land on the
/// same image.
#[test]
fn a_run_over_the_memory_budget_goes_tile_by_tile_to_the_same_result() {
    let (stylizer, photo, painting) = setup();
    let options = |memory_budget| StyleOptions {
        min_scale: 336,
        memory_budget,
        preview_every: 0,
        ..sized(336, 2)
    };
    let (whole, whole_reports) = run(&stylizer, &photo, &only(&painting), &options(4096));
    let (tiled, tiled_reports) = run(&stylizer, &photo, &only(&painting), &options(128));
    let (whole, tiled) = (whole.unwrap(), tiled.unwrap());
    assert!(whole_reports.iter().all(|r| r.tile.is_none()));
    let tiles: Vec<(u32, TileProgress)> = tiled_reports
        .iter()
        .filter_map(|r| r.tile.map(|t| (r.iteration, t)))
        .collect();
    let counts: Vec<(u32, (u32, u32))> =
        tiles.iter().map(|(i, t)| (*i, (t.done, t.count))).collect();
    let expected: Vec<(u32, (u32, u32))> = (1..=2)
        .flat_map(|i| (1..=12).map(move |k| (i, (k, 12))))
        .collect();
    assert_eq!(counts, expected);
    // Each iteration's tile regions cover the 336 × 223 picture once.
    for iteration in 1..=2 {
        let mut covered = vec![0u8; 336 * 223];
        for (_, t) in tiles.iter().filter(|(i, _)| *i == iteration) {
            let r = t.region;
            let [left, top, width, height] = [r.x, r.y, r.width, r.height].map(|v| v as usize);
            assert!(left + width <= 336 && top + height <= 223, "{t:?}");
            for y in top..top + height {
                covered[y * 336 + left..y * 336 + left + width]
                    .iter_mut()
                    .for_each(|c| *c += 1);
            }
        }
        assert!(covered.iter().all(|&c| c == 1), "iteration {iteration}");
    }
    let (a, b) = (whole.losses.unwrap(), tiled.losses.unwrap());
    for (x, y) in [(a.content, b.content), (a.style, b.style), (a.tv, b.tv)] {
        assert!((x - y).abs() <= 1e-4 * x.abs(), "{a:?} vs {b:?}");
    }
    let difference = relative_error(tiled.image.planar(), whole.image.planar());
    println!("tiled vs whole result: relative error {difference:.2e}");
    assert!(difference < 1e-4, "{difference}");
}

#[test]
fn cancelling_during_a_tiled_iteration_stops_within_a_tile() {
    let (stylizer, photo, painting) = setup();
    let options = StyleOptions {
        min_scale: 336,
        memory_budget: 128,
        ..sized(336, 3)
    };
    let mut reports = Vec::new();
    let result = pollster::block_on(stylizer.stylize(&photo, &only(&painting), &options, |p| {
        let stop = p.tile.is_some_and(|t| (t.done, t.count) == (3, 12));
        reports.push(p);
        match stop {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    }));
    assert_eq!(result.unwrap_err(), StylizeError::Cancelled);
    assert_eq!(reports.len(), 3, "no report after the cancelling one");
}

/// A fast start whose painting would take more than the memory budget (here 128 MiB: 671k
/// pixels for the feed-forward network) is painted smaller and enlarged: the same picture
/// at the size asked, a little softer.
#[test]
fn a_fast_start_over_the_budget_is_painted_smaller_and_enlarged() {
    let (stylizer, photo, painting) = setup();
    let quick = |memory_budget| StyleOptions {
        init: Init::Fast,
        memory_budget,
        ..sized(1200, 0)
    };
    let (capped, _) = run(&stylizer, &photo, &only(&painting), &quick(128));
    let (whole, _) = run(&stylizer, &photo, &only(&painting), &quick(4096));
    let (capped, whole) = (capped.unwrap().image, whole.unwrap().image);
    assert_eq!((capped.width(), capped.height()), (1200, 795));
    let difference = mean_abs_difference(&capped, &whole);
    println!("painted at 82 % and enlarged vs painted whole: mean difference {difference:.4}");
    assert!(difference < 0.05, "{difference}");
    let photo_here = photo.resize(1200, 795);
    assert!(mean_abs_difference(&capped, &photo_here) > 0.08);
}

/// A GPU whose buffers hold at most 100 MB cannot take a 1024 px pass of VGG16 (137 MB,
/// the default budget's 536 870 pixels at 256 B): the run is refused before any work, with
/// what needs the space, and the same stylizer then runs a size that fits.
#[test]
fn a_run_larger_than_the_device_s_buffers_is_refused_before_any_work() {
    let (stylizer, photo, painting) = setup();
    let stylizer = stylizer.with_max_buffer(Some(100_000_000));
    let (result, reports) = run(&stylizer, &photo, &only(&painting), &sized(1024, 2));
    let error = result.unwrap_err();
    assert_eq!(
        error,
        StylizeError::TooLarge {
            needed: 256 * 536_870,
            limit: 100_000_000,
            what: "a pass of VGG16"
        }
    );
    assert_eq!(
        error.to_string(),
        "too large for this GPU: a pass of VGG16 takes 138 MB in one buffer, and this GPU \
         allows 100 MB; choose a smaller size (or memory budget) or the CPU"
    );
    assert!(reports.is_empty());
    let (result, _) = run(&stylizer, &photo, &only(&painting), &sized(64, 1));
    assert_eq!(result.unwrap().image.width(), 64);
}

/// A stationary texture: two crossed waves in warm and cool colours, the same statistics
/// everywhere, so any difference between the picture's border and its inside is the engine's.
fn uniform_texture(side: u32) -> Image {
    let n = (side * side) as usize;
    let mut planes = vec![0.0f32; 3 * n];
    for y in 0..side {
        for x in 0..side {
            let (fx, fy) = (x as f32, y as f32);
            let a = (fx * 0.9 + fy * 0.3).sin();
            let b = (fx * 0.2 - fy * 1.1).sin();
            let i = (y * side + x) as usize;
            planes[i] = 0.5 + 0.3 * a;
            planes[n + i] = 0.5 + 0.2 * b;
            planes[2 * n + i] = 0.5 - 0.15 * (a + b);
        }
    }
    Image::from_planar(side, side, planes).unwrap()
}

/// How far each border band (the 3 px strip along the top, bottom, left and right edge) is
/// from the inside, in mean luminance, as a multiple of how far the inside's own 3 px strips
/// (8 px in and more, parallel to it) stray from their mean: a texture's phase moves a strip's
/// mean as much as it moves the inside's, a frame moves the edge's alone. Below 1: the edge is
/// as the inside.
fn border_offsets(image: &Image) -> [f32; 4] {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let y = &luminance(image);
    const BAND: usize = 3;
    // Mean luminance of the strip of rows (or columns) `at .. at + BAND`.
    let strip = |at: usize, rows: bool| {
        let (n, other) = if rows { (BAND * w, w) } else { (BAND * h, h) };
        let sum: f32 = (at..at + BAND)
            .flat_map(|i| (0..other).map(move |j| if rows { y[i * w + j] } else { y[j * w + i] }))
            .sum();
        sum / n as f32
    };
    let offset = |rows: bool, len: usize, edge: usize| {
        let inside: Vec<f32> = (8..len - 8 - BAND).map(|at| strip(at, rows)).collect();
        let mean = inside.iter().sum::<f32>() / inside.len() as f32;
        let stray = inside.iter().map(|m| (m - mean).abs()).fold(0.0, f32::max);
        (strip(edge, rows) - mean).abs() / stray
    };
    [
        offset(true, h, 0),
        offset(true, h, h - BAND),
        offset(false, w, 0),
        offset(false, w, w - BAND),
    ]
}

/// A border band may stray from the inside at most this many times as far as the inside's own
/// strips do: measured up to 1.44 (a 50 × 37 picture's left edge), where a band an eighth of
/// the texture's spread darker measures about 20.
const WORST_EDGE: f32 = 2.0;

/// No dark or bright frame, and no seam where the pictures' sides are off the pooling grid (not
/// multiples of 16): a flat grey photo painted with a uniform texture for 60 steps, from the
/// photo at 61 × 45 and 50 × 37 px and from the fast start at 150 × 113 px.
#[test]
fn no_frame_at_the_borders_at_sizes_off_the_pooling_grid() {
    let (stylizer, _, _) = setup();
    let painting = uniform_texture(64);
    let styles = only(&painting);
    let cases = [
        (61, 45, Init::Content),
        (50, 37, Init::Content),
        (150, 113, Init::Fast),
    ];
    let mut worst = 0.0f32;
    for (width, height, init) in cases {
        let grey =
            Image::from_planar(width, height, vec![0.5; (3 * width * height) as usize]).unwrap();
        let options = StyleOptions {
            init,
            ..sized(width.max(height), 60)
        };
        let result = run(&stylizer, &grey, &styles, &options).0.unwrap().image;
        let offsets = border_offsets(&result);
        println!(
            "{width}×{height} {init:?}: border offsets (top, bottom, left, right) {offsets:.2?}"
        );
        worst = worst.max(offsets.into_iter().fold(0.0, f32::max));
    }
    // The measure sees a frame: the texture itself, and with a band 0.05 darker (an eighth of
    // its spread) along one edge.
    let texture = uniform_texture(64).resize(61, 45);
    let mut framed = texture.planar().to_vec();
    for plane in framed.chunks_mut(61 * 45) {
        for row in plane.chunks_mut(61) {
            row[58..].iter_mut().for_each(|v| *v -= 0.05);
        }
    }
    let framed = Image::from_planar(61, 45, framed).unwrap();
    let (plain, framed) = (border_offsets(&texture), border_offsets(&framed));
    println!("the texture itself: {plain:.2?}; framed on the right: {framed:.2?}");
    assert!(framed[3] > 2.0 * WORST_EDGE && plain[3] < WORST_EDGE);
    assert!(
        worst < WORST_EDGE,
        "a border band strays {worst:.2} times as far as the inside's"
    );
}
