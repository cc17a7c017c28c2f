//! Compares where the optimisation starts, on the engine's own objective: the photo, the
//! feed-forward network's picture alone (`init: "fast"`, `fastMix` 1, the default), and that
//! picture mixed half and half with the photo (`fastMix` 0.5).
//!
//! ```text
//! cargo run --release --bin starts -- --pair photo.jpg painting.jpg [--pair ...] \
//!     [--size 256] [--iterations 300] [--at 50,100,150,300] [--backend cpu|gpu]
//! ```
//!
//! Prints the weighted loss terms at each iteration of `--at` (the objective of the image
//! that iteration starts from), and the time to the first picture.

use std::ops::ControlFlow;
use std::time::Instant;

use clap::Parser;

use style_transfer::native::{Backend, device, read_image};
use style_transfer::{FastWeights, Init, Losses, StyleImage, StyleOptions, Stylizer, VggWeights};

const WEIGHTS: &[u8] = include_bytes!("../../../models/vgg16-int8.safetensors");
const FAST_WEIGHTS: &[u8] = include_bytes!("../../../models/fast-int8.safetensors");

/// Runs each start on each pair and prints the objective along the way.
#[derive(Parser)]
struct Args {
    /// A photo and a painting; repeat for more pairs.
    #[arg(long, num_args = 2, value_names = ["CONTENT", "STYLE"], required = true)]
    pair: Vec<String>,
    /// Long side of the result, in pixels.
    #[arg(long, default_value_t = 256)]
    size: u32,
    /// Steps of each run.
    #[arg(long, default_value_t = 300)]
    iterations: u32,
    /// The iterations whose objective is printed.
    #[arg(long, value_delimiter = ',', default_value = "50,100,150,300")]
    at: Vec<u32>,
    /// Where to run.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
}

fn main() {
    let args = Args::parse();
    let pairs: Vec<(String, String)> = args
        .pair
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    let (size, iterations, at, backend) = (args.size, args.iterations, args.at, args.backend);
    let chosen = device(backend).expect("a device");
    println!("backend: {}", chosen.description);
    let vgg = VggWeights::from_int8_safetensors(WEIGHTS).expect("valid weights");
    let fast = FastWeights::from_int8_safetensors(FAST_WEIGHTS).expect("valid weights");
    let stylizer = Stylizer::new(&vgg, &chosen.device)
        .with_fast(&fast)
        .expect("network");
    println!("| pair | start | iteration | content | style | tv | total |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (content_path, style_path) in &pairs {
        let content = read_image(content_path.as_ref()).expect("content image");
        let painting = read_image(style_path.as_ref()).expect("style image");
        let name = |p: &str| {
            let file = std::path::Path::new(p).file_stem().unwrap_or_default();
            file.to_string_lossy().into_owned()
        };
        let pair = format!("{} / {}", name(content_path), name(style_path));
        let starts = [
            ("photo", Init::Content, 1.0),
            ("fast picture", Init::Fast, 1.0),
            ("fast, mixed half with the photo", Init::Fast, 0.5),
        ];
        for (label, init, fast_mix) in starts {
            let options = StyleOptions {
                size,
                iterations,
                init,
                fast_mix,
                ..Default::default()
            };
            let began = Instant::now();
            let mut first_picture = None;
            let mut seen: Vec<(u32, Losses)> = Vec::new();
            let styles = [StyleImage {
                image: &painting,
                blend: 1.0,
                mask: None,
            }];
            let result = pollster::block_on(stylizer.stylize(&content, &styles, &options, |p| {
                first_picture.get_or_insert(began.elapsed());
                if let Some(losses) = p.losses.filter(|_| at.contains(&p.iteration)) {
                    seen.push((p.iteration, losses));
                }
                ControlFlow::Continue(())
            }))
            .expect("run");
            let total = began.elapsed();
            for (iteration, l) in seen {
                println!(
                    "| {pair} | {label} | {iteration} | {:.4e} | {:.4e} | {:.4e} | {:.4e} |",
                    l.content, l.style, l.tv, l.total
                );
            }
            eprintln!(
                "{pair}, {label}: first report after {:.2} s, {} iterations in {:.1} s, final total {:.4e}",
                first_picture.unwrap_or_default().as_secs_f64(),
                result.iterations,
                total.as_secs_f64(),
                result.losses.map(|l| l.total).unwrap_or(f32::NAN)
            );
        }
    }
}
