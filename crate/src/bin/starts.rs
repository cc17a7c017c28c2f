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

use style_transfer::native::{Backend, device, read_image};
use style_transfer::{FastWeights, Init, Losses, StyleImage, StyleOptions, Stylizer, VggWeights};

const WEIGHTS: &[u8] = include_bytes!("../../../models/vgg16-int8.safetensors");
const FAST_WEIGHTS: &[u8] = include_bytes!("../../../models/fast-int8.safetensors");

fn main() {
    let usage = "usage: starts --pair CONTENT STYLE [--pair ...] [--size N] [--iterations N] \
                 [--at 50,100] [--backend cpu|gpu]";
    let mut pairs = Vec::new();
    let (mut size, mut iterations, mut backend) = (256u32, 300u32, Backend::Cpu);
    let mut at = vec![50u32, 100, 150, 300];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = |k: usize| args.get(i + k).expect(usage).clone();
        match args[i].as_str() {
            "--pair" => {
                pairs.push((value(1), value(2)));
                i += 1;
            }
            "--size" => size = value(1).parse().expect(usage),
            "--iterations" => iterations = value(1).parse().expect(usage),
            "--at" => {
                at = value(1)
                    .split(',')
                    .map(|s| s.parse().expect(usage))
                    .collect()
            }
            "--backend" if value(1) == "gpu" => backend = Backend::Gpu,
            "--backend" => backend = Backend::Cpu,
            _ => panic!("{usage}"),
        }
        i += 2;
    }
    assert!(!pairs.is_empty(), "{usage}");
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
