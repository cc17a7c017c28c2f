//! The feed-forward network against ONNX Runtime running the original int8 graphs, and the
//! weight file against a fresh conversion.

mod common;

use common::*;
use style_transfer::burn::tensor::{Device, Tensor, TensorData};
use style_transfer::fast::{STYLE_INPUT_MULTIPLE, STYLE_INPUT_SIDES, style_input_side};
use style_transfer::{FastNetwork, Image};

/// ONNX Runtime's outputs (see `tests/reference/fast_network.py`).
struct Reference {
    style_int8: Vec<f32>,
    style_float: Vec<f32>,
    paint_int8: Vec<f32>,
    paint_float: Vec<f32>,
}

fn onnx_runtime(style: &Image, content: &Image) -> Reference {
    // Tests run in parallel: one folder per content size.
    let dir = std::env::temp_dir().join(format!(
        "fast-reference-{}-{}x{}",
        std::process::id(),
        content.width(),
        content.height()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, image: &Image| {
        let bytes: Vec<u8> = image
            .planar()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    write("style.f32", style);
    write("content.f32", content);
    let status = std::process::Command::new(reference_python())
        .arg(root().join("tests/reference/fast_network.py"))
        .arg(downloaded("FAST_PREDICT_ONNX"))
        .arg(downloaded("FAST_TRANSFORM_ONNX"))
        .arg(dir.join("style.f32"))
        .arg(dir.join("content.f32"))
        .arg(content.height().to_string())
        .arg(content.width().to_string())
        .arg(&dir)
        .status()
        .expect("run the Python reference (numpy, onnx, onnxruntime)");
    assert!(status.success(), "the ONNX Runtime reference failed");
    let read = |name: &str| -> Vec<f32> {
        std::fs::read(dir.join(format!("{name}.f32")))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let reference = Reference {
        style_int8: read("style_int8"),
        style_float: read("style_float"),
        paint_int8: read("paint_int8"),
        paint_float: read("paint_float"),
    };
    std::fs::remove_dir_all(&dir).ok();
    reference
}

fn style_tensor(values: &[f32]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), [1, 100]), &cpu())
}

fn mean_abs(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .sum::<f64>()
        / a.len() as f64
}

/// Both compute the same float network (int8 weights, float activations) in float32, in
/// different summation orders; the instance norms divide by standard deviations that can be
/// small, which amplifies rounding. Measured: 3e-7 for the style vector and 8e-7 for the
/// painting (wgpu on lavapipe against the CPU backend: 1.5e-6 and 2.2e-6). The bound keeps a tenfold-plus margin; a wrong padding, kernel layout, norm
/// or upsampling gives errors of order 1e-2 to 1.
const FLOAT_TOLERANCE: f64 = 2e-5;

#[test]
fn matches_onnx_runtime_at_the_graphs_size() {
    let style = fixture("painting.png").center_square().resize(256, 256);
    let content = fixture("photo.jpg").resize(384, 384);
    let reference = onnx_runtime(&style, &content);
    let network = FastNetwork::new(&fast_weights(), &cpu()).unwrap();

    let style_vector = read(network.predict(style.to_tensor(&cpu())));
    let error = relative_error(&style_vector, &reference.style_float);
    println!("style vector vs the float graph: relative error {error:.2e}");
    assert!(error < FLOAT_TOLERANCE, "style vector: {error}");

    let painting = read(network.paint(
        content.to_tensor(&cpu()),
        style_tensor(&reference.style_float),
    ));
    let error = relative_error(&painting, &reference.paint_float);
    println!("painting vs the float graph: relative error {error:.2e}");
    assert!(error < FLOAT_TOLERANCE, "painting: {error}");

    // The original graph also rounds every activation to int8 (the variances of its norms
    // to steps of about 0.003), so it differs from any float network by that rounding alone:
    // the float copy's distance to it. Ours must sit at that same distance, and far closer
    // to the float copy than either is to the int8 graph.
    let ours = read(network.paint(content.to_tensor(&cpu()), style_tensor(&style_vector)));
    let rounding = mean_abs(&reference.paint_float, &reference.paint_int8);
    let distance = mean_abs(&ours, &reference.paint_int8);
    let style_rounding = relative_error(&reference.style_float, &reference.style_int8);
    println!(
        "int8 graph vs float: painting mean |difference| {rounding:.4} (float copy), \
         {distance:.4} (ours); style vector relative error {style_rounding:.3}"
    );
    assert!(
        (distance - rounding).abs() < 0.05 * rounding,
        "ours is {distance} from the int8 graph, the float copy {rounding}"
    );
    assert!(mean_abs(&ours, &reference.paint_float) < 0.01 * rounding);
}

#[test]
fn paints_any_size_like_the_float_graph() {
    // Sizes the graphs never saw, the content not square; the reference frees the inputs'
    // sides. The style at 320, as the predictor sees this square painting for a 320 px
    // output.
    let painting = fixture("painting.png");
    let side = style_input_side([painting.width(), painting.height()], 320, 1.0);
    assert_eq!(side, 320);
    let style = painting.center_square().resize(side, side);
    let content = fixture("photo.jpg").resize(156, 104);
    let reference = onnx_runtime(&style, &content);
    let network = FastNetwork::new(&fast_weights(), &cpu()).unwrap();
    let style_vector = read(network.style_vector(&painting, side));
    let error = relative_error(&style_vector, &reference.style_float);
    println!("style vector at {side} px vs the float graph: relative error {error:.2e}");
    assert!(error < FLOAT_TOLERANCE, "style vector: {error}");
    let painting = network.paint(
        content.to_tensor(&cpu()),
        style_tensor(&reference.style_float),
    );
    assert_eq!(painting.dims(), [1, 3, 104, 156]);
    let error = relative_error(&read(painting), &reference.paint_float);
    println!("156x104 painting vs the float graph: relative error {error:.2e}");
    assert!(error < FLOAT_TOLERANCE, "painting: {error}");

    // Sides that are not multiples of 4 are padded and cropped back.
    let odd = fixture("photo.jpg").resize(61, 37);
    let painting = network.paint(odd.to_tensor(&cpu()), style_tensor(&reference.style_float));
    assert_eq!(painting.dims(), [1, 3, 37, 61]);
}

#[test]
fn wgpu_matches_the_cpu_backend() {
    let Some(gpu) = gpu() else { return };
    let weights = fast_weights();
    let style = fixture("painting.png").center_square().resize(64, 64);
    let content = fixture("photo.jpg").resize(48, 32);
    let run = |device: &Device| {
        let network = FastNetwork::new(&weights, device).unwrap();
        let vector = network.predict(style.to_tensor(device));
        (
            read(vector.clone()),
            read(network.paint(content.to_tensor(device), vector)),
        )
    };
    let (cpu_style, cpu_painting) = run(&cpu());
    let (gpu_style, gpu_painting) = run(&gpu);
    for (what, a, b) in [
        ("style", gpu_style, cpu_style),
        ("painting", gpu_painting, cpu_painting),
    ] {
        let error = relative_error(&a, &b);
        println!("{what}: wgpu vs CPU relative error {error:.2e}");
        assert!(error < FLOAT_TOLERANCE, "{what}: {error}");
    }
}

#[test]
fn weight_file_is_reproduced_byte_for_byte() {
    assert_regenerates(
        env!("CARGO_BIN_EXE_convert-fast"),
        &[
            downloaded("FAST_PREDICT_ONNX"),
            downloaded("FAST_TRANSFORM_ONNX"),
        ],
        "fast-int8.safetensors",
    );
}

#[test]
fn the_predictor_sees_a_painting_at_the_optimisations_scale() {
    // A 4:3 painting: its shorter side as the objective sees it, to a multiple of 32.
    let side = |output, scale| style_input_side([800, 600], output, scale);
    assert_eq!(side(512, 1.0), 384);
    assert_eq!(side(512, 0.5), 192);
    assert_eq!(side(720, 1.0), 544, "540 rounds to 544");
    assert_eq!(side(256, 1.0), 192);
    // Portrait or landscape, the shorter side.
    assert_eq!(style_input_side([600, 800], 512, 1.0), 384);
    // Within the range at both ends.
    assert_eq!(side(64, 1.0), *STYLE_INPUT_SIDES.start());
    assert_eq!(side(4096, 1.0), *STYLE_INPUT_SIDES.end());
    for output in (16..5000).step_by(37) {
        let s = side(output, 1.0);
        assert!(
            STYLE_INPUT_SIDES.contains(&s) && s % STYLE_INPUT_MULTIPLE == 0,
            "{s}"
        );
    }
}
