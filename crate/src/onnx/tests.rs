//! The ONNX readers on synthetic models, and on models broken in their values or their
//! bytes: an error, or convolutions whose values match their shapes; never a panic.

use super::*;
use crate::test_util::{Random, no_panic};

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(VggWeights::from_onnx(b"definitely not protobuf \xff\xff\xff").is_err());
    assert!(VggWeights::from_onnx(&[]).is_err());
}

#[test]
fn reads_conv_nodes_from_a_synthetic_model() {
    let mut initializer = Vec::new();
    let mut node = Vec::new();
    for (layer, (cin, cout)) in CONV_LAYERS.iter().zip(CONV_CHANNELS) {
        let values: Vec<f32> = (0..cout * cin * 9).map(|i| i as f32).collect();
        initializer.push(TensorProto {
            dims: vec![cout as i64, cin as i64, 3, 3],
            data_type: ONNX_FLOAT,
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            name: format!("{layer}/w"),
            ..Default::default()
        });
        initializer.push(TensorProto {
            dims: vec![cout as i64],
            data_type: ONNX_FLOAT,
            float_data: vec![0.5; cout],
            name: format!("{layer}/b"),
            ..Default::default()
        });
        node.push(NodeProto {
            input: vec!["x".into(), format!("{layer}/w"), format!("{layer}/b")],
            op_type: "Conv".into(),
            ..Default::default()
        });
    }
    let model = ModelProto {
        graph: Some(GraphProto { node, initializer }),
    };
    let weights = VggWeights::from_onnx(&model.encode_to_vec()).unwrap();
    assert_eq!(weights.layers.len(), 11);
    assert_eq!(weights.layers[3].weight[7], 7.0);
    assert_eq!(weights.layers[10].bias, vec![0.5; 512]);
}

/// A float initializer.
fn floats(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: ONNX_FLOAT,
        float_data: values.to_vec(),
        name: name.into(),
        ..Default::default()
    }
}

/// A node.
fn node(op_type: &str, input: &[&str], output: &str) -> NodeProto {
    NodeProto {
        input: input.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        op_type: op_type.into(),
    }
}

/// A quantized (QDQ) convolution: its initializers and nodes, the kernel `dims` holding
/// `kernel` (as `raw_data`), one scale per output channel, an int32 bias with its scales.
fn qdq_conv(
    name: &str,
    dims: [i64; 4],
    kernel: &[i8],
    bias: &[i32],
) -> (Vec<TensorProto>, Vec<NodeProto>) {
    let out = bias.len();
    let scale: Vec<f32> = (0..out).map(|o| 0.01 * (o + 1) as f32).collect();
    let kernel = TensorProto {
        dims: dims.to_vec(),
        data_type: ONNX_INT8,
        raw_data: kernel.iter().map(|&v| v as u8).collect(),
        name: format!("{name}/weights"),
        ..Default::default()
    };
    let zero = TensorProto {
        dims: vec![out as i64],
        data_type: ONNX_INT8,
        int32_data: vec![0; out],
        name: format!("{name}/zero"),
        ..Default::default()
    };
    let bias_values = TensorProto {
        dims: vec![out as i64],
        data_type: ONNX_INT32,
        int32_data: bias.to_vec(),
        name: format!("{name}/bias"),
        ..Default::default()
    };
    let initializers = vec![
        kernel,
        floats(&format!("{name}/scale"), &[out as i64], &scale),
        zero,
        bias_values,
        floats(&format!("{name}/bias_scale"), &[out as i64], &scale),
    ];
    let p = |suffix: &str| format!("{name}/{suffix}");
    let nodes = vec![
        node(
            "DequantizeLinear",
            &[&p("weights"), &p("scale"), &p("zero")],
            &p("kernel"),
        ),
        node("DequantizeLinear", &[&p("bias"), &p("bias_scale")], &p("b")),
        node("Conv", &["x", &p("kernel"), &p("b")], &p("y")),
    ];
    (initializers, nodes)
}

/// A model of quantized convolutions.
fn qdq_model(convs: &[(Vec<TensorProto>, Vec<NodeProto>)]) -> Vec<u8> {
    let graph = GraphProto {
        initializer: convs.iter().flat_map(|c| c.0.clone()).collect(),
        node: convs.iter().flat_map(|c| c.1.clone()).collect(),
    };
    ModelProto { graph: Some(graph) }.encode_to_vec()
}

/// Three convolutions of a few shapes, one depthwise.
fn small_qdq_model() -> Vec<u8> {
    let kernel = |n: usize| -> Vec<i8> { (0..n).map(|i| (i % 255) as i8 - 127).collect() };
    qdq_model(&[
        qdq_conv("a/conv", [4, 3, 3, 3], &kernel(108), &[1, -2, 3, -4]),
        qdq_conv("b/depthwise", [4, 1, 3, 3], &kernel(36), &[5, 6, 7, 8]),
        qdq_conv("c/conv", [2, 4, 1, 1], &kernel(8), &[-1, 1]),
    ])
}

#[test]
fn reads_quantized_convolutions() {
    let convs = quantized_convs(&small_qdq_model()).unwrap();
    let names: Vec<&str> = convs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a/conv", "b/depthwise", "c/conv"]);
    let c = &convs[2].1;
    assert_eq!(c.shape(), [2, 4, 1, 1]);
    assert_eq!(c.bias, vec![-0.01, 0.02]);
    assert_eq!(c.dequantized()[4], -123.0 * 0.02);
}

/// Before these were checked, a kernel with fewer values than its shape was read, and
/// dequantizing it divided by zero.
#[test]
fn values_that_do_not_fill_their_shape_are_errors() {
    let cases = [
        (
            "one kernel value short",
            qdq_conv("k", [2, 1, 1, 1], &[1], &[0, 0]),
        ),
        (
            "one kernel value over",
            qdq_conv("k", [2, 1, 1, 1], &[1, 2, 3], &[0, 0]),
        ),
        (
            "a negative side",
            qdq_conv("k", [2, -1, -1, -1], &[1, 2], &[0, 0]),
        ),
        (
            "sides that overflow",
            qdq_conv("k", [2, 1 << 32, 1 << 31, 1 << 31], &[1, 2], &[0, 0]),
        ),
    ];
    for (what, conv) in cases {
        let bytes = qdq_model(&[conv]);
        let result = no_panic(what, || quantized_convs(&bytes));
        assert!(result.is_err(), "{what}: {result:?}");
    }
    // VGG16 in float: the first layer's kernel one value short, then its bias.
    let layer = |kernel: usize, bias: usize| {
        let initializer = vec![
            floats("w", &[64, 3, 3, 3], &vec![0.5; kernel]),
            floats("b", &[64], &vec![0.5; bias]),
        ];
        let node = vec![node("Conv", &["x", "w", "b"], "y"); CONV_LAYERS.len()];
        let model = ModelProto {
            graph: Some(GraphProto { node, initializer }),
        };
        VggWeights::from_onnx(&model.encode_to_vec())
    };
    assert!(layer(64 * 27 - 1, 64).is_err());
    assert!(layer(64 * 27, 63).is_err());
    // With every value there, the first layer passes and the second is missing.
    let error = layer(64 * 27, 64).unwrap_err().to_string();
    assert!(error.contains("kernel"), "{error}");
}

/// A small QDQ model with flipped bytes, cut short or with bytes added: an error, or
/// convolutions whose values fill their shapes (and dequantize).
#[test]
fn a_mutated_model_is_an_error_or_consistent_convolutions() {
    const SEED: u64 = 0x0ccc;
    let mut random = Random::new(SEED);
    let mut bytes = small_qdq_model();
    let (mut read, mut refused) = (0, 0);
    for case in 0..3000 {
        let original = bytes.clone();
        let what = match random.below(3) {
            0 => {
                let cut = random.below(bytes.len());
                bytes.truncate(cut);
                format!("cut at {cut}")
            }
            1 => {
                let flips = 1 + random.below(3);
                for _ in 0..flips {
                    let at = random.below(bytes.len());
                    bytes[at] ^= 1 + random.below(255) as u8;
                }
                format!("{flips} bytes flipped")
            }
            _ => {
                let at = random.below(bytes.len());
                let byte = random.bits() as u8;
                bytes.insert(at, byte);
                format!("{byte:#04x} inserted at {at}")
            }
        };
        let what = format!("seed {SEED:#x}, case {case}: {what}");
        no_panic(&what, || match quantized_convs(&bytes) {
            Ok(convs) => {
                read += 1;
                for (name, conv) in convs {
                    let count: usize = conv.shape().iter().product();
                    assert_eq!(conv.weight.len(), count, "{what}: {name}");
                    assert_eq!(conv.scale.len(), conv.out_channels, "{what}: {name}");
                    assert_eq!(conv.bias.len(), conv.out_channels, "{what}: {name}");
                    assert_eq!(conv.dequantized().len(), count, "{what}: {name}");
                }
            }
            Err(_) => refused += 1,
        });
        bytes = original;
    }
    println!("{read} read, {refused} refused");
    assert!(
        read >= 50 && refused >= 50,
        "{read} read, {refused} refused"
    );
}
