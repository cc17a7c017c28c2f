//! The VGG16 features against the original float network run by ONNX Runtime, and the weight
//! file against the float weights: features, and finished stylizations judged by the float
//! network.

mod common;

use common::*;
use style_transfer::{Image, Vgg16, VggLayer, VggWeights};

const LAYERS: [VggLayer; 6] = [
    VggLayer::Relu1_1,
    VggLayer::Relu2_1,
    VggLayer::Relu3_1,
    VggLayer::Relu4_1,
    VggLayer::Relu4_2,
    VggLayer::Relu5_1,
];

/// ONNX Runtime's activations for `image` at each of [`LAYERS`].
fn onnx_runtime_features(image: &Image) -> Vec<Vec<f32>> {
    let dir = std::env::temp_dir().join(format!("vgg-reference-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("image.f32");
    let bytes: Vec<u8> = image
        .planar()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&input, bytes).unwrap();
    let names: Vec<String> = LAYERS.iter().map(|l| l.name()).collect();
    let status = std::process::Command::new(reference_python())
        .arg(root().join("tests/reference/vgg_features.py"))
        .arg(onnx_path())
        .arg(&input)
        .arg(image.height().to_string())
        .arg(image.width().to_string())
        .arg(&dir)
        .args(&names)
        .status()
        .expect("run the Python reference (numpy, onnx, onnxruntime)");
    assert!(status.success(), "the ONNX Runtime reference failed");
    let features = names
        .iter()
        .map(|n| {
            std::fs::read(dir.join(format!("{n}.f32")))
                .unwrap()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    features
}

fn burn_features(
    weights: &VggWeights,
    image: &Image,
    device: &style_transfer::burn::tensor::Device,
) -> Vec<Vec<f32>> {
    let vgg = Vgg16::new(weights, device);
    vgg.features(image.to_tensor(device), &LAYERS)
        .into_iter()
        .map(read)
        .collect()
}

fn float_weights() -> VggWeights {
    VggWeights::from_onnx(&std::fs::read(onnx_path()).unwrap()).expect("the ONNX network")
}

/// Both engines compute in float32 but sum in different orders, so activations differ by
/// rounding only: measured 1e-7 to 1e-6 relative error, growing with depth. The bound keeps
/// a tenfold margin; a wrong kernel layout, channel order, mean or padding gives errors of
/// order 1e-2 to 1.
const ENGINE_TOLERANCE: f64 = 1e-5;

#[test]
fn float_features_match_onnx_runtime() {
    let photo = fixture("photo.jpg");
    let reference = onnx_runtime_features(&photo);
    let ours = burn_features(&float_weights(), &photo, &cpu());
    for ((layer, a), b) in LAYERS.iter().zip(&ours).zip(&reference) {
        let error = relative_error(a, b);
        println!(
            "{}: burn flex vs ONNX Runtime, relative error {error:.2e}",
            layer.name()
        );
        assert!(error < ENGINE_TOLERANCE, "{}: {error}", layer.name());
    }
}

/// The weight file's feature error against float, layer by layer (see models/README.md):
/// int8 kernels (0.4–1.2 % RMS error) keep relu1_1 and relu2_1 within 0.35 % and 0.69 %; the
/// 6-bit conv3_x (6–7 %) and 5-bit conv4_x and conv5_1 (10–11 %) take it to 3.1 % at relu3_1,
/// 10 % at relu4_1, 15 % at relu4_2 and 23 % at relu5_1 on the test photo (all-int8: 1.1 %,
/// 1.5 %, 1.5 %, 1.7 %). The bounds leave about a 1.5× margin; the stylization test below is
/// the one that says whether that error matters, and it does not: the optimisation matches
/// the targets through the same network, so the error largely cancels.
const WEIGHT_FILE_TOLERANCE: [f64; 6] = [0.007, 0.014, 0.05, 0.15, 0.22, 0.33];

#[test]
fn weight_file_features_stay_close_to_float() {
    let photo = fixture("photo.jpg");
    let float = burn_features(&float_weights(), &photo, &cpu());
    let file = burn_features(&int8_weights(), &photo, &cpu());
    let errors: Vec<f64> = file
        .iter()
        .zip(&float)
        .map(|(a, b)| relative_error(a, b))
        .collect();
    for (layer, error) in LAYERS.iter().zip(&errors) {
        println!(
            "{}: weight file vs float, relative error {:.3} %",
            layer.name(),
            100.0 * error
        );
    }
    for ((layer, error), bound) in LAYERS.iter().zip(errors).zip(WEIGHT_FILE_TOLERANCE) {
        assert!(error < bound, "{}: {error} ≥ {bound}", layer.name());
    }
}

#[test]
fn weight_file_is_reproduced_byte_for_byte() {
    assert_regenerates(
        env!("CARGO_BIN_EXE_quantize-vgg"),
        &[onnx_path()],
        "vgg16-int8.safetensors",
    );
}

#[test]
fn wgpu_features_match_the_cpu_backend() {
    let Some(gpu) = gpu() else { return };
    let photo = fixture("photo.jpg").resize(48, 32);
    let weights = int8_weights();
    let on_gpu = burn_features(&weights, &photo, &gpu);
    let on_cpu = burn_features(&weights, &photo, &cpu());
    for ((layer, a), b) in LAYERS.iter().zip(&on_gpu).zip(&on_cpu) {
        let error = relative_error(a, b);
        println!("{}: wgpu vs flex, relative error {error:.2e}", layer.name());
        assert!(error < ENGINE_TOLERANCE, "{}: {error}", layer.name());
    }
}

/// The weight file (5 and 6 bits in the deep layers, `VGG_BITS`) against all-int8 weights
/// where it matters: the test pair stylized with each (the default run at 160 px, 100
/// iterations) and both results judged by the float network. The issue allows 5 %; measured
/// on this pair +1.2 %, and +1.5 % and +2.2 % on two pairs of the local test images
/// (models/README.md).
#[test]
fn weight_file_stylizes_within_5_percent_of_int8() {
    use std::ops::ControlFlow;
    use style_transfer::{StyleImage, StyleOptions, Stylizer};

    let (photo, painting) = (fixture("photo.jpg"), fixture("painting.png"));
    let styles = [StyleImage {
        image: &painting,
        blend: 1.0,
        mask: None,
    }];
    let options = StyleOptions {
        size: 160,
        iterations: 100,
        ..Default::default()
    };
    let float = float_weights();
    let judge = Stylizer::new(&float, &cpu());
    let losses = |weights: &VggWeights| {
        let stylizer = Stylizer::new(weights, &cpu())
            .with_fast(&fast_weights())
            .unwrap();
        let run = stylizer.stylize(&photo, &styles, &options, |_| ControlFlow::Continue(()));
        let image = pollster::block_on(run).unwrap().image;
        pollster::block_on(judge.evaluate(&image, &photo, &styles, &options)).unwrap()
    };
    // All-int8 weights, as the weight file was before `VGG_BITS`.
    let int8 = losses(&VggWeights::dequantized(&float.quantize(&[8; 11])));
    let file = losses(&int8_weights());
    println!("judged by the float network: all int8 {int8:?}, the weight file {file:?}");
    assert!(
        file.total <= 1.05 * int8.total,
        "{} > 1.05 × {}",
        file.total,
        int8.total
    );
}
