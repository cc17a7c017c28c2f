//! Benchmark: time per iteration, memory and achieved GFLOP/s at 128, 256 and 512 px for each
//! convolution kernel the backend runs (on wgpu: burn's direct kernel and our implicit-GEMM one, side
//! by side), per-layer GFLOP/s of both kernels on wgpu, and the feed-forward picture alone
//! (Quick mode) at 256, 512 and 1024 px, and moving pictures: the network per video frame at
//! 256, 384 and 512 px, and the flicker of a panning clip painted plainly, steadied and refined.
//!
//! ```text
//! cargo run --release --bin bench -- [--backend cpu|gpu|all] [--sizes 128,256,512] [--iterations N]
//!     [--fast-sizes 256,512,1024] [--memory-budget MIB] [--kernels direct,gemm] [--layer-sizes 128,512]
//!     [--style-losses gram,wasserstein] [--regions 0,2,3] [--frame-sizes 256,384,512]
//!     [--clip PHOTO] [--painting PAINTING] [--flicker-size 256] [--flicker-steps 5]
//! ```
//!
//! `--memory-budget` sets the engine's budget (default: the engine's for the device, 1024 MiB
//! on the CPU, 768 on a GPU): sizes over it run tile by tile. Peak memory is the process's,
//! so run one size per process to compare sizes. A list
//! may be `none` (`--layer-sizes none --fast-sizes none` for the iteration table alone). A
//! size the GPU's buffers cannot hold prints the engine's refusal in its row.
//!
//! Each size runs one scale with the default objective (content `relu4_2`, style `relu1_1` …
//! `relu5_1`) and L-BFGS; the first iteration (shader compilation, allocation) is timed
//! apart from the steady ones. Inputs are synthetic, so no image files are needed.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

use style_transfer::burn::tensor::{Device, Distribution, Tensor};
use style_transfer::conv3x3::Conv3x3;
use style_transfer::native::{Backend, device};
use style_transfer::weights::{CONV_CHANNELS, CONV_LAYERS};
use style_transfer::{
    ConvKernel, FastWeights, Image, Init, Mask, StyleImage, StyleLoss, StyleOptions, Stylizer,
    VggLayer, VggWeights,
};

mod frames;

const WEIGHTS: &[u8] = include_bytes!("../../../../models/vgg16-int8.safetensors");
const FAST_WEIGHTS: &[u8] = include_bytes!("../../../../models/fast-int8.safetensors");

/// Times the engine per iteration, each convolution layer alone, and the feed-forward picture.
#[derive(Parser)]
struct Args {
    /// Where to run: `all` is the CPU backend and then wgpu.
    #[arg(long, value_enum, default_value = "all")]
    backend: Backends,
    /// Sizes of the iteration table (long side, px).
    #[arg(long, default_value = "128,256,512")]
    sizes: Sizes,
    /// Steady iterations timed per size, after the first.
    #[arg(long, default_value_t = 5)]
    iterations: u32,
    /// Sizes of the feed-forward table (`none` for none).
    #[arg(long, default_value = "256,512,1024")]
    fast_sizes: Sizes,
    /// The engine's memory budget in MiB (sizes over it run tile by tile); the engine's
    /// default for the device when left out.
    #[arg(long, value_name = "MIB")]
    memory_budget: Option<u32>,
    /// Convolution kernels compared on wgpu (`direct`, `gemm`).
    #[arg(long, value_delimiter = ',', value_parser = kernel, default_value = "direct,gemm")]
    kernels: Vec<ConvKernel>,
    /// Sizes of the per-layer table (`none` for none).
    #[arg(long, default_value = "128,512")]
    layer_sizes: Sizes,
    /// Style losses compared in the iteration table (`gram`, `wasserstein`).
    #[arg(long, value_delimiter = ',', value_enum, default_value = "gram")]
    style_losses: Vec<Loss>,
    /// Painted regions compared in the iteration table: 0 is a run without masks; n > 0 is
    /// n paintings, each masked to a vertical band of the picture.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    regions: Vec<u32>,
    /// Sizes of the video frame table (`none` for none).
    #[arg(long, default_value = "256,384,512")]
    frame_sizes: Sizes,
    /// The photo the flicker clip pans across (the test fixture by default).
    #[arg(long)]
    clip: Option<std::path::PathBuf>,
    /// The painting of the flicker clip (the test fixture by default).
    #[arg(long)]
    painting: Option<std::path::PathBuf>,
    /// Size of the flicker clip's frames (0 for no flicker table).
    #[arg(long, default_value_t = 256)]
    flicker_size: u32,
    /// Gatys steps per frame in the flicker table's refined rows (0 for none).
    #[arg(long, default_value_t = 5)]
    flicker_steps: u32,
}

/// A style loss, by its options name.
#[derive(Clone, Copy, ValueEnum)]
enum Loss {
    Gram,
    Wasserstein,
}

impl Loss {
    fn option(self) -> StyleLoss {
        match self {
            Loss::Gram => StyleLoss::Gram,
            Loss::Wasserstein => StyleLoss::Wasserstein,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Backends {
    Cpu,
    Gpu,
    All,
}

/// A list of sizes, `128,256`; `none` for no sizes.
#[derive(Clone)]
struct Sizes(Vec<u32>);

impl std::str::FromStr for Sizes {
    type Err = std::num::ParseIntError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        match list {
            "none" => Ok(Sizes(Vec::new())),
            _ => list
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map(Sizes),
        }
    }
}

fn kernel(name: &str) -> Result<ConvKernel, String> {
    ConvKernel::from_name(name).ok_or_else(|| format!("{name}: not `direct` or `gemm`"))
}

fn main() {
    let args = Args::parse();
    let backends = match args.backend {
        Backends::Cpu => vec![Backend::Cpu],
        Backends::Gpu => vec![Backend::Gpu],
        Backends::All => vec![Backend::Cpu, Backend::Gpu],
    };
    let (sizes, iterations, kernels) = (args.sizes.0, args.iterations, args.kernels);
    let weights = VggWeights::from_int8_safetensors(WEIGHTS).expect("valid weights");
    println!(
        "| backend | kernel | style loss | regions | size | first iteration | steady ms/iteration | GFLOP/iteration | GFLOP/s | peak memory |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut devices = Vec::new();
    for backend in backends {
        let (device, cpu, max_buffer) = match device(backend) {
            Ok(chosen) => (chosen.device, chosen.cpu, chosen.max_buffer),
            Err(e) => {
                println!("| {backend:?} | | | | - | unavailable: {e} | | | | |");
                continue;
            }
        };
        devices.push((backend, device.clone()));
        for &kernel in kernels.iter().filter(|k| k.runs_on(&device)) {
            let stylizer =
                Stylizer::with_kernel(&weights, &device, kernel).with_max_buffer(max_buffer);
            let memory_budget = args
                .memory_budget
                .unwrap_or(stylizer.defaults().memory_budget);
            let mut runs = Vec::new();
            for size in &sizes {
                for loss in &args.style_losses {
                    runs.extend(args.regions.iter().map(|r| (*size, *loss, *r)));
                }
            }
            for (size, loss, regions) in runs {
                let loss_name = loss
                    .to_possible_value()
                    .expect("named")
                    .get_name()
                    .to_owned();
                let content = pattern(size, 1);
                let paintings: Vec<Image> =
                    (0..regions.max(1)).map(|k| pattern(size, 7 + k)).collect();
                let masks: Vec<Mask> = (0..regions).map(|k| band(size, k, regions)).collect();
                let styles: Vec<StyleImage> = (paintings.iter().enumerate())
                    .map(|(k, image)| StyleImage {
                        image,
                        blend: 1.0,
                        mask: masks.get(k),
                    })
                    .collect();
                let options = StyleOptions {
                    size,
                    min_scale: size,
                    iterations: iterations + 1,
                    // From the photo: every progress report is an iteration.
                    init: Init::Content,
                    memory_budget,
                    style_loss: loss.option(),
                    ..Default::default()
                };
                let mut stamps = vec![Instant::now()];
                let run = pollster::block_on(stylizer.stylize(&content, &styles, &options, |p| {
                    if p.tile.is_none() {
                        stamps.push(Instant::now());
                    }
                    ControlFlow::Continue(())
                }));
                if let Err(e) = run {
                    println!(
                        "| {backend:?} | {} | {loss_name} | {regions} | {size} | {e} | | | | |",
                        kernel.name()
                    );
                    continue;
                }
                let first = stamps[1] - stamps[0];
                let steady = (stamps[stamps.len() - 1] - stamps[1]) / iterations;
                let gflop = iteration_flops(size, size) / 1e9;
                let memory = match cpu {
                    true => peak_rss(),
                    false => device
                        .memory_pool_usage()
                        .map(|u| format!("{:.0} MiB reserved", u.bytes_reserved as f64 / 1048576.0))
                        .unwrap_or_else(|| "n/a".into()),
                };
                println!(
                    "| {backend:?} | {} | {loss_name} | {regions} | {size} | {} | {:.0} | {gflop:.1} | {:.1} | {memory} |",
                    kernel.name(),
                    ms(first),
                    steady.as_secs_f64() * 1e3,
                    gflop / steady.as_secs_f64(),
                );
            }
        }
    }
    for (backend, device) in &devices {
        if ConvKernel::Gemm.runs_on(device) {
            layers(*backend, device, &kernels, &args.layer_sizes.0);
        }
    }
    let fast = FastWeights::from_int8_safetensors(FAST_WEIGHTS).expect("valid weights");
    frames::fast_pictures(&weights, &fast, &devices, &args.fast_sizes.0);
    frames::frame_rates(&weights, &fast, &devices, &args.frame_sizes.0);
    if args.flicker_size > 0 {
        let fixture = |name: &str| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures")
                .join(name)
        };
        let read = |path: std::path::PathBuf| {
            style_transfer::native::read_image(&path).expect("the flicker clip's pictures")
        };
        let photo = read(args.clip.unwrap_or_else(|| fixture("photo.jpg")));
        let painting = read(args.painting.unwrap_or_else(|| fixture("painting.png")));
        let clip = frames::Clip {
            photo: &photo,
            painting: &painting,
            size: args.flicker_size,
            steps: args.flicker_steps,
        };
        frames::flicker_table(&weights, &fast, &devices, &clip);
    }
}

/// Each VGG16 convolution alone at the resolution it runs at for a `size` px image: forward
/// (with bias and ReLU) and forward + input gradient, per kernel, in ms and GFLOP/s (2 per
/// multiply-add; the gradient costs what the forward does).
fn layers(backend: Backend, device: &Device, kernels: &[ConvKernel], sizes: &[u32]) {
    println!(
        "\n| backend | size | layer | input | kernel | forward ms | GFLOP/s | forward + gradient ms | GFLOP/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for &size in sizes {
        let mut side = size as usize;
        for (i, &(cin, cout)) in CONV_CHANNELS.iter().enumerate() {
            let x = Tensor::<4>::random([1, cin, side, side], Distribution::Default, device);
            let flop = 2.0 * 9.0 * (cin * cout * side * side) as f64;
            for &kernel in kernels {
                let conv = Conv3x3::new(
                    Tensor::random([cout, cin, 3, 3], Distribution::Default, device),
                    Tensor::random([cout], Distribution::Default, device),
                    kernel,
                );
                let forward = time(device, || drop(conv.forward(x.clone(), true)));
                let both = time(device, || {
                    let leaf = x.clone().autodiff().require_grad();
                    let grads = conv.forward(leaf.clone(), true).sum().backward();
                    drop(leaf.grad(&grads));
                });
                println!(
                    "| {backend:?} | {size} | {} | {side}×{side}×{cin} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                    CONV_LAYERS[i],
                    kernel.name(),
                    forward * 1e3,
                    flop / forward / 1e9,
                    both * 1e3,
                    2.0 * flop / both / 1e9,
                );
            }
            if [1, 3, 6, 9].contains(&i) {
                side /= 2;
            }
        }
    }
}

/// Seconds per call of `f`, after a first call (pipelines, allocation), over at least 3 calls
/// and 0.5 s, waiting for the device each time.
fn time(device: &Device, mut f: impl FnMut()) -> f64 {
    f();
    device.sync().expect("device");
    let began = Instant::now();
    let mut calls = 0;
    while calls < 3 || began.elapsed() < Duration::from_millis(500) {
        f();
        device.sync().expect("device");
        calls += 1;
    }
    began.elapsed().as_secs_f64() / f64::from(calls)
}

/// The `k`-th of `n` vertical bands of a `size` px square, as a mask.
fn band(size: u32, k: u32, n: u32) -> Mask {
    let values = (0..size * size).map(|i| f32::from(u8::from((i % size) * n / size == k)));
    Mask::from_values(size, size, values.collect()).expect("size × size values")
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

/// A deterministic colourful test pattern.
pub(crate) fn pattern(size: u32, seed: u32) -> Image {
    let n = (size * size) as usize;
    let data = (0..3 * n)
        .map(|i| {
            let (c, p) = ((i / n) as u32, (i % n) as u32);
            let (x, y) = (p % size, p / size);
            let v = ((x * (3 + seed + c) + y * (5 + 2 * seed)) % 97) as f32 / 96.0;
            0.5 + 0.5 * (v * std::f32::consts::TAU + c as f32).sin()
        })
        .collect();
    Image::from_planar(size, size, data).expect("valid pattern")
}

/// Floating-point operations of one iteration at `width × height`: the VGG forward pass
/// through `relu5_1` (2 per multiply-add), the backward pass to the input (the same
/// convolutions again: no weight gradients are needed), and the Gram matrices forward and
/// backward; elementwise work is ignored.
fn iteration_flops(width: u32, height: u32) -> f64 {
    let mut pixels = f64::from(width) * f64::from(height);
    let mut total = 0.0;
    for (i, &(cin, cout)) in CONV_CHANNELS.iter().enumerate() {
        total += 2.0 * 2.0 * 9.0 * cin as f64 * cout as f64 * pixels;
        let layer = VggLayer::ALL[i];
        let style_layer = StyleOptions::default()
            .style_layers
            .iter()
            .any(|l| l.0 == layer);
        if style_layer {
            total += 3.0 * 2.0 * (cout * cout) as f64 * pixels;
        }
        if [1, 3, 6, 9].contains(&i) {
            pixels /= 4.0;
        }
    }
    total
}

/// Peak resident memory of this process (Linux), as a string.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_string())
        })
        .map(|kb| format!("{kb} RSS (process peak)"))
        .unwrap_or_else(|| "n/a".into())
}
