//! `stylize`: neural style transfer from the command line.
//!
//! ```text
//! stylize --content photo.jpg --style painting.jpg --output out.png --size 512
//! ```

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use style_transfer::native::{Backend, device, read_image, write_image};
use style_transfer::{Init, Optimizer, StyleImage, StyleOptions, Stylizer, VggWeights};

/// The int8 VGG16 weights, built into the binary.
const WEIGHTS: &[u8] = include_bytes!("../../../models/vgg16-int8.safetensors");

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    /// wgpu: Vulkan, Metal or DirectX.
    Gpu,
    /// burn's CPU backend.
    Cpu,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OptimizerArg {
    Lbfgs,
    Adam,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum InitArg {
    Content,
    Noise,
}

/// Paint a photo in the style of one or more paintings (Gatys et al. 2016).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The photo whose content is kept.
    #[arg(long)]
    content: PathBuf,
    /// A painting whose style is taken; repeat to blend several.
    #[arg(long, required = true)]
    style: Vec<PathBuf>,
    /// Blend weight of each --style, in the same order (default 1 each).
    #[arg(long = "style-weight")]
    style_weight: Vec<f32>,
    /// Where to write the result (PNG).
    #[arg(long)]
    output: PathBuf,
    /// Longer side of the output in pixels.
    #[arg(long, default_value_t = StyleOptions::default().size)]
    size: u32,
    /// Iterations over all scales together.
    #[arg(long, default_value_t = StyleOptions::default().iterations)]
    iterations: u32,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "gpu")]
    backend: BackendArg,
    /// Keep the photo's colours.
    #[arg(long)]
    preserve_colors: bool,
    /// Seed of the noise start.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the image every K iterations (next to --output, numbered).
    #[arg(long, value_name = "K")]
    save_every: Option<u32>,
    /// Weight of the content loss.
    #[arg(long, default_value_t = StyleOptions::default().content_weight)]
    content_weight: f32,
    /// Weight of the style loss.
    #[arg(long, default_value_t = StyleOptions::default().style_weight)]
    style_loss_weight: f32,
    /// Weight of the smoothness (total variation) loss.
    #[arg(long, default_value_t = StyleOptions::default().tv_weight)]
    tv_weight: f32,
    /// Size of the style relative to the output.
    #[arg(long, default_value_t = StyleOptions::default().style_scale)]
    style_scale: f32,
    /// Smallest scale of the coarse-to-fine schedule.
    #[arg(long, default_value_t = StyleOptions::default().min_scale)]
    min_scale: u32,
    /// Optimiser.
    #[arg(long, value_enum, default_value = "lbfgs")]
    optimizer: OptimizerArg,
    /// Adam's step size.
    #[arg(long, default_value_t = 0.02)]
    learning_rate: f32,
    /// Starting image.
    #[arg(long, value_enum, default_value = "content")]
    init: InitArg,
}

/// Exit code for unreadable input, as for a usage error.
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

fn run(args: &Args) -> Result<(), (u8, String)> {
    let bad_input = |e: String| (BAD_INPUT, e);
    let content = read_image(&args.content).map_err(|e| bad_input(e.to_string()))?;
    let paintings = args
        .style
        .iter()
        .map(|p| read_image(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_input(e.to_string()))?;
    if !args.style_weight.is_empty() && args.style_weight.len() != paintings.len() {
        return Err(bad_input(format!(
            "{} --style-weight values for {} --style images",
            args.style_weight.len(),
            paintings.len()
        )));
    }
    let styles: Vec<StyleImage> = paintings
        .iter()
        .enumerate()
        .map(|(i, image)| StyleImage {
            image,
            weight: args.style_weight.get(i).copied().unwrap_or(1.0),
        })
        .collect();
    let options = StyleOptions {
        size: args.size,
        iterations: args.iterations,
        content_weight: args.content_weight,
        style_weight: args.style_loss_weight,
        tv_weight: args.tv_weight,
        style_scale: args.style_scale,
        min_scale: args.min_scale.min(args.size),
        init: match args.init {
            InitArg::Content => Init::Content,
            InitArg::Noise => Init::Noise,
        },
        seed: args.seed,
        optimizer: match args.optimizer {
            OptimizerArg::Lbfgs => Optimizer::LBFGS,
            OptimizerArg::Adam => Optimizer::Adam {
                learning_rate: args.learning_rate,
            },
        },
        preserve_colors: args.preserve_colors,
        preview_every: args.save_every.unwrap_or(0),
        ..Default::default()
    };
    options.validate().map_err(|e| bad_input(e.to_string()))?;

    let weights = VggWeights::from_int8_safetensors(WEIGHTS).map_err(|e| (1, e.to_string()))?;
    let backend = match args.backend {
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Cpu => Backend::Cpu,
    };
    let device = device(backend).map_err(|e| (1, e))?;
    let stylizer = Stylizer::new(&weights, &device);

    let bar = ProgressBar::new(u64::from(options.iterations));
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} eta {eta} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut save_error = None;
    let result = pollster::block_on(stylizer.stylize(&content, &styles, &options, |p| {
        bar.set_position(u64::from(p.iteration));
        bar.set_message(format!(
            "{}x{} content {:.3e} style {:.3e} tv {:.3e}",
            p.width, p.height, p.losses.content, p.losses.style, p.losses.tv
        ));
        if let Some(image) = &p.image {
            let path = numbered(&args.output, p.iteration);
            if let Err(e) = write_image(&path, image) {
                save_error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }));
    bar.finish();
    if let Some(e) = save_error {
        return Err((1, e));
    }
    let result = result.map_err(|e| (1, e.to_string()))?;
    write_image(&args.output, &result.image).map_err(|e| (1, e))?;
    println!(
        "wrote {} ({}x{}) after {} iterations, loss {:.4e}",
        args.output.display(),
        result.image.width(),
        result.image.height(),
        result.iterations,
        result.losses.total
    );
    Ok(())
}

/// `out.png` → `out-0100.png`.
fn numbered(output: &Path, iteration: u32) -> PathBuf {
    let stem = output.file_stem().unwrap_or_default().to_string_lossy();
    output.with_file_name(format!("{stem}-{iteration:04}.png"))
}
