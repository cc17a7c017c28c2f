//! `stylize`: neural style transfer from the command line.
//!
//! ```text
//! stylize --content photo.jpg --style painting.jpg --output out.png --size 512
//! stylize --content photo.jpg --style sky.jpg --mask top.png --style city.jpg --mask bottom.png \
//!     --keep-mask face.png --output out.png
//! stylize --frames-in clip/ --frames-out painted/ --style painting.jpg --size 384
//! ```

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use style_transfer::native::{Backend, device, read_image, read_mask, set_threads, write_image};
use style_transfer::options::LOOKS;
use style_transfer::{
    DeviceKind, FastWeights, StyleImage, StyleOptions, StylizeError, Stylizer, VggWeights,
};

mod frames;

/// The int8 VGG16 weights, built into the binary.
const WEIGHTS: &[u8] = include_bytes!("../../../../models/vgg16-int8.safetensors");
/// The feed-forward network's int8 weights, built into the binary.
const FAST_WEIGHTS: &[u8] = include_bytes!("../../../../models/fast-int8.safetensors");

/// Paint a photo in the style of one or more paintings (Gatys et al. 2016).
///
/// The engine options (size, weights, optimiser, ...) are the same object as the JavaScript
/// API's: give them as flags, or as JSON with --options; flags win over the file.
#[derive(Debug, Parser)]
#[command(version, after_help = defaults_help())]
struct Args {
    /// The photo whose content is kept.
    #[arg(long, required_unless_present = "frames_in")]
    content: Option<PathBuf>,
    /// A folder of numbered frames (PNG, JPEG or WebP) to paint in order with the
    /// feed-forward network, each steadied by the one before (frameStability); with
    /// --iterations, that many Gatys steps refine each frame, started from its picture
    /// steadied by the last result.
    #[arg(long, requires = "frames_out", conflicts_with_all = ["content", "output", "mask", "keep_mask", "save_every"])]
    frames_in: Option<PathBuf>,
    /// Where the painted frames go, as PNG under the frames' own names.
    #[arg(long, requires = "frames_in")]
    frames_out: Option<PathBuf>,
    /// A painting whose style is taken; repeat to blend several.
    #[arg(long, required = true)]
    style: Vec<PathBuf>,
    /// Where the --style before it goes (Gatys et al. 2017's spatial control): a greyscale
    /// picture in the photo's shape, white where this painting goes (soft edges blend). With
    /// any mask, each painting is matched in its own region; a painting without one covers
    /// the whole picture.
    #[arg(long)]
    mask: Vec<PathBuf>,
    /// Where the photo is kept, with no style (a greyscale picture like --mask: white = kept).
    #[arg(long)]
    keep_mask: Option<PathBuf>,
    /// Blend weight of each --style (its share of the style), in the same order; default 1
    /// each. Not the style loss weight (--style-weight).
    #[arg(long)]
    blend: Vec<f32>,
    /// Where to write the result (PNG).
    #[arg(long, required_unless_present = "frames_in")]
    output: Option<PathBuf>,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    backend: Backend,
    /// The CPU backend's threads (default: every core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Also write the image every K iterations (next to --output, numbered).
    #[arg(long, value_name = "K")]
    save_every: Option<u32>,
    /// Engine options as a JSON object with the JavaScript API's camelCase keys.
    #[arg(long, value_name = "FILE.json")]
    options: Option<PathBuf>,
    /// Longer side of the output in pixels.
    #[arg(long)]
    size: Option<u32>,
    /// Iterations over all scales together.
    #[arg(long)]
    iterations: Option<u32>,
    /// Whose colours the result has: `painting`; `photo` (put back afterwards); `luminance`
    /// (luminance-only transfer, Gatys et al. 2017); `match` (the painting recoloured to the
    /// photo's palette first).
    #[arg(long)]
    colors: Option<String>,
    /// What the style loss compares: `gram` (Gram matrices) or `wasserstein` (mean and
    /// covariance).
    #[arg(long)]
    style_loss: Option<String>,
    /// Style layers' weights by depth: `equal` or `coarse-to-fine` (256:64:16:4:1).
    #[arg(long)]
    style_layer_weights: Option<String>,
    /// How VGG16's first convolution pads the edge: `zero`, `replicate` or `reflect`.
    #[arg(long)]
    padding: Option<String>,
    /// VGG16's pooling: `max` or `average`.
    #[arg(long)]
    pooling: Option<String>,
    /// How the paintings are resampled to each scale: `triangle` or `lanczos3`.
    #[arg(long)]
    style_filter: Option<String>,
    /// Decay of a moving average of each scale's iterates, carried on when it scores lower
    /// (0 none; crowsonkb uses 0.99 with Adam).
    #[arg(long)]
    average_decay: Option<f32>,
    /// The look: `painterly` (the default) or `faithful` (keeps more of the photo); sets the
    /// content weight, which --content-weight overrides.
    #[arg(long)]
    look: Option<String>,
    /// Seed of the noise start.
    #[arg(long)]
    seed: Option<u64>,
    /// Weight of the content loss.
    #[arg(long)]
    content_weight: Option<f32>,
    /// Weight of the style loss.
    #[arg(long)]
    style_weight: Option<f32>,
    /// Weight of the smoothness (total variation) loss.
    #[arg(long)]
    tv_weight: Option<f32>,
    /// Size of the style relative to the output.
    #[arg(long)]
    style_scale: Option<f32>,
    /// Smallest scale of the coarse-to-fine schedule.
    #[arg(long)]
    min_scale: Option<u32>,
    /// Optimiser: lbfgs or adam.
    #[arg(long)]
    optimizer: Option<String>,
    /// Adam's step size.
    #[arg(long)]
    learning_rate: Option<f32>,
    /// Starting image: content, noise, or fast (the feed-forward network's painting).
    #[arg(long)]
    init: Option<String>,
    /// How much of the paintings' style the fast start takes, from 0 (the photo's) to 1.
    #[arg(long)]
    fast_strength: Option<f32>,
    /// How much of the feed-forward picture the fast start takes, the rest the photo (0–1).
    #[arg(long)]
    fast_mix: Option<f32>,
    /// Frames: how much of the previous frame's picture each keeps where the scene did not
    /// change (0–1; 0 paints each on its own).
    #[arg(long)]
    frame_stability: Option<f32>,
    /// Memory (MiB) one pass of the network may take; larger images run tile by tile.
    #[arg(long, value_name = "MIB")]
    memory_budget: Option<u32>,
    /// The feed-forward network's picture alone, in seconds (--init fast --iterations 0).
    #[arg(long, conflicts_with_all = ["iterations", "init"])]
    quick: bool,
}

/// `--help`'s closing lines: the one defaults object, as JSON.
fn defaults_help() -> String {
    let defaults = serde_json::to_string_pretty(&StyleOptions::default()).expect("serializable");
    let gpu = DeviceKind::Gpu.memory_budget();
    format!(
        "Defaults of the engine options on the CPU (the same for --options and the JavaScript \
         API; on a GPU memoryBudget is {gpu}):\n{defaults}"
    )
}

impl Args {
    /// The options given: the --options file, then every flag given, as one JSON object.
    fn given_options(&self) -> Result<Map<String, Value>, String> {
        let mut object = match &self.options {
            None => Map::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                match serde_json::from_str(&text) {
                    Ok(Value::Object(object)) => object,
                    Ok(_) => {
                        return Err(format!("{}: options must be a JSON object", path.display()));
                    }
                    Err(e) => return Err(format!("{}: {e}", path.display())),
                }
            }
        };
        let look = match &self.look {
            None => None,
            Some(name) => match LOOKS.iter().find(|l| l.name == name) {
                Some(look) => Some(json!(look.content_weight)),
                None => {
                    let names: Vec<&str> = LOOKS.iter().map(|l| l.name).collect();
                    return Err(format!("--look {name}: not one of {}", names.join(", ")));
                }
            },
        };
        let flags = [
            ("contentWeight", look),
            ("size", self.size.map(|v| json!(v))),
            ("iterations", self.iterations.map(|v| json!(v))),
            ("seed", self.seed.map(|v| json!(v))),
            ("contentWeight", self.content_weight.map(|v| json!(v))),
            ("styleWeight", self.style_weight.map(|v| json!(v))),
            ("tvWeight", self.tv_weight.map(|v| json!(v))),
            ("styleScale", self.style_scale.map(|v| json!(v))),
            ("minScale", self.min_scale.map(|v| json!(v))),
            ("optimizer", self.optimizer.as_ref().map(|v| json!(v))),
            ("learningRate", self.learning_rate.map(|v| json!(v))),
            ("init", self.init.as_ref().map(|v| json!(v))),
            ("fastStrength", self.fast_strength.map(|v| json!(v))),
            ("fastMix", self.fast_mix.map(|v| json!(v))),
            ("frameStability", self.frame_stability.map(|v| json!(v))),
            ("memoryBudget", self.memory_budget.map(|v| json!(v))),
            ("init", self.quick.then_some(json!("fast"))),
            ("iterations", self.quick.then_some(json!(0))),
            ("previewEvery", self.save_every.map(|v| json!(v))),
            ("colors", self.colors.as_ref().map(|v| json!(v))),
            ("styleLoss", self.style_loss.as_ref().map(|v| json!(v))),
            (
                "styleLayerWeights",
                self.style_layer_weights.as_ref().map(|v| json!(v)),
            ),
            ("padding", self.padding.as_ref().map(|v| json!(v))),
            ("pooling", self.pooling.as_ref().map(|v| json!(v))),
            ("styleFilter", self.style_filter.as_ref().map(|v| json!(v))),
            ("averageDecay", self.average_decay.map(|v| json!(v))),
        ];
        for (key, value) in flags {
            if let Some(value) = value {
                object.insert(key.into(), value);
            }
        }
        // Frames are the network's pictures unless steps are asked for.
        if self.frames_in.is_some() {
            object.entry("iterations").or_insert(json!(0));
        }
        Ok(object)
    }
}

/// Exit code for unreadable input, as for a usage error.
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Each --mask belongs to the --style before it.
    let positions = |id| {
        matches
            .indices_of(id)
            .map(Vec::from_iter)
            .unwrap_or_default()
    };
    let masked = match masked_styles(&positions("style"), &positions("mask")) {
        Ok(masked) => masked,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    match run(&args, &masked) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// For each `--mask` (at `masks`, its positions on the command line), the index of the
/// `--style` before it (at `styles`): refused before the first style, or a second for one.
fn masked_styles(styles: &[usize], masks: &[usize]) -> Result<Vec<usize>, String> {
    let mut owners: Vec<usize> = Vec::new();
    for &at in masks {
        let owner = styles
            .iter()
            .rposition(|&s| s < at)
            .ok_or("--mask comes after the --style it belongs to")?;
        if owners.contains(&owner) {
            return Err(format!("--style {} has two --mask", owner + 1));
        }
        owners.push(owner);
    }
    Ok(owners)
}

fn run(args: &Args, masked: &[usize]) -> Result<(), (u8, String)> {
    let bad_input = |e: String| (BAD_INPUT, e);
    let content = (args.content.as_ref())
        .map(|path| read_image(path))
        .transpose()
        .map_err(|e| bad_input(e.to_string()))?;
    let paintings = args
        .style
        .iter()
        .map(|p| read_image(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_input(e.to_string()))?;
    if !args.blend.is_empty() && args.blend.len() != paintings.len() {
        return Err(bad_input(format!(
            "{} --blend values for {} --style images",
            args.blend.len(),
            paintings.len()
        )));
    }
    let read_mask = |p: &PathBuf| read_mask(p).map_err(|e| bad_input(e.to_string()));
    let masks = args
        .mask
        .iter()
        .map(read_mask)
        .collect::<Result<Vec<_>, _>>()?;
    let keep = args.keep_mask.as_ref().map(read_mask).transpose()?;
    let mask_of = |i: usize| masked.iter().position(|&s| s == i).map(|k| &masks[k]);
    let styles: Vec<StyleImage> = paintings
        .iter()
        .enumerate()
        .map(|(i, image)| StyleImage {
            image,
            blend: args.blend.get(i).copied().unwrap_or(1.0),
            mask: mask_of(i),
        })
        .collect();
    // The options through the one serde path (unknown keys, wrong types and out-of-range
    // values are refused, named): checked before the networks load, then with the keys left
    // out taken from the chosen device's defaults.
    let given = args.given_options().map_err(bad_input)?;
    let with_defaults = |defaults: &StyleOptions| {
        StyleOptions::deserialize_validated_over(defaults, Value::Object(given.clone()))
            .map_err(|e| bad_input(e.to_string()))
    };
    with_defaults(&StyleOptions::default())?;

    let weights = VggWeights::from_int8_safetensors(WEIGHTS).map_err(|e| (1, e.to_string()))?;
    let threads = set_threads(args.threads).map_err(bad_input)?;
    let chosen = device(args.backend).map_err(|e| (1, e))?;
    if chosen.cpu {
        let plural = if threads == 1 { "" } else { "s" };
        eprintln!(
            "backend: {} on {threads} thread{plural}",
            chosen.description
        );
    } else {
        eprintln!("backend: {}", chosen.description);
    }
    let fast = FastWeights::from_int8_safetensors(FAST_WEIGHTS).map_err(|e| (1, e.to_string()))?;
    let stylizer = Stylizer::new(&weights, &chosen.device)
        .with_max_buffer(chosen.max_buffer)
        .with_fast(&fast)
        .map_err(|e| (1, e.to_string()))?;
    let options = with_defaults(&stylizer.defaults())?;
    let (Some(content), Some(output)) = (content, &args.output) else {
        let (from, to) = (args.frames_in.as_ref(), args.frames_out.as_ref());
        let (from, to) = from
            .zip(to)
            .expect("clap requires --content or --frames-in");
        return frames::paint_folder(&stylizer, from, to, &styles, &options);
    };

    let bar = ProgressBar::new(u64::from(options.iterations));
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} eta {eta} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut save_error = None;
    let run = stylizer.stylize_keeping(&content, keep.as_ref(), &styles, &options, |p| {
        bar.set_position(u64::from(p.iteration));
        bar.set_message(match (p.losses, p.tile) {
            (Some(l), _) => format!(
                "{}x{} content {:.3e} style {:.3e} tv {:.3e}",
                p.width, p.height, l.content, l.style, l.tv
            ),
            (None, Some(t)) => format!("{}x{} tile {} of {}", p.width, p.height, t.done, t.count),
            (None, None) => format!("{}x{} starting picture", p.width, p.height),
        });
        if let Some(image) = &p.image {
            let path = numbered(output, p.iteration);
            if let Err(e) = write_image(&path, image) {
                save_error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    let result = pollster::block_on(run);
    bar.finish();
    if let Some(e) = save_error {
        return Err((1, e));
    }
    let result = result.map_err(|e| match e {
        StylizeError::Masks(_) => bad_input(e.to_string()),
        e => (1, e.to_string()),
    })?;
    write_image(output, &result.image).map_err(|e| (1, e))?;
    let loss = match result.losses {
        Some(l) => format!(", loss {:.4e}", l.total),
        None => String::new(),
    };
    let kept = match result.start_kept {
        true => " (no step improved on the starting picture, so it is kept)",
        false => "",
    };
    println!(
        "wrote {} ({}x{}) after {} iterations{loss}{kept}",
        output.display(),
        result.image.width(),
        result.image.height(),
        result.iterations,
    );
    Ok(())
}

/// `out.png` → `out-0100.png`.
fn numbered(output: &Path, iteration: u32) -> PathBuf {
    let stem = output.file_stem().unwrap_or_default().to_string_lossy();
    output.with_file_name(format!("{stem}-{iteration:04}.png"))
}
