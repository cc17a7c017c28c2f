//! Reads convolution weights out of ONNX files (native only): the float VGG16 convolutions,
//! and the int8 convolutions of a quantized (QDQ) graph such as the feed-forward network's.
//!
//! Only the few protobuf fields needed are declared. For VGG16, the first eleven `Conv` nodes
//! of the graph, in order, are `conv1_1` … `conv5_1`; their kernels must be `[out, in, 3, 3]`
//! as ONNX stores them.

use std::collections::HashMap;

use prost::Message;

use crate::weights::{CONV_CHANNELS, CONV_LAYERS, ConvWeights, QuantizedConv, VggWeights};

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "4")]
    op_type: String,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(float, repeated, tag = "4")]
    float_data: Vec<f32>,
    /// int32 values, and the int8 / uint8 ones widened, when not in `raw_data`.
    #[prost(int32, repeated, tag = "5")]
    int32_data: Vec<i32>,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

/// ONNX's code for `float32`.
const ONNX_FLOAT: i32 = 1;
/// ONNX's code for `int8`.
const ONNX_INT8: i32 = 3;
/// ONNX's code for `int32`.
const ONNX_INT32: i32 = 6;

/// Why an ONNX file could not give the convolutions asked for.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OnnxError(String);

fn decode_graph(bytes: &[u8]) -> Result<GraphProto, OnnxError> {
    ModelProto::decode(bytes)
        .map_err(|e| OnnxError(format!("not an ONNX model: {e}")))?
        .graph
        .ok_or_else(|| OnnxError("the ONNX model has no graph".into()))
}

impl TensorProto {
    fn expect_type(&self, data_type: i32, what: &str) -> Result<(), OnnxError> {
        match self.data_type == data_type {
            true => Ok(()),
            false => Err(OnnxError(format!(
                "initializer `{}` is not {what} (type {})",
                self.name, self.data_type
            ))),
        }
    }

    fn int8s(&self) -> Result<Vec<i8>, OnnxError> {
        self.expect_type(ONNX_INT8, "int8")?;
        Ok(match self.raw_data.is_empty() {
            false => self.raw_data.iter().map(|&b| b as i8).collect(),
            true => self.int32_data.iter().map(|&v| v as i8).collect(),
        })
    }

    fn int32s(&self) -> Result<Vec<i32>, OnnxError> {
        self.expect_type(ONNX_INT32, "int32")?;
        Ok(match self.raw_data.is_empty() {
            false => self
                .raw_data
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            true => self.int32_data.clone(),
        })
    }

    fn floats(&self) -> Result<Vec<f32>, OnnxError> {
        if self.data_type != ONNX_FLOAT {
            return Err(OnnxError(format!(
                "initializer `{}` is not float32 (type {})",
                self.name, self.data_type
            )));
        }
        if !self.raw_data.is_empty() {
            Ok(self
                .raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        } else {
            Ok(self.float_data.clone())
        }
    }
}

impl VggWeights {
    /// The float weights of VGG16's first eleven convolutions in an ONNX model.
    pub fn from_onnx(bytes: &[u8]) -> Result<Self, OnnxError> {
        let graph = decode_graph(bytes)?;
        let initializer = |name: &str| {
            graph
                .initializer
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| OnnxError(format!("no initializer `{name}`")))
        };
        let convs: Vec<&NodeProto> = graph.node.iter().filter(|n| n.op_type == "Conv").collect();
        if convs.len() < CONV_LAYERS.len() {
            return Err(OnnxError(format!(
                "expected at least {} Conv nodes, found {}",
                CONV_LAYERS.len(),
                convs.len()
            )));
        }
        let layers = convs
            .iter()
            .zip(CONV_LAYERS.iter().zip(CONV_CHANNELS))
            .map(|(node, (layer, (cin, cout)))| {
                let (Some(w), Some(b)) = (node.input.get(1), node.input.get(2)) else {
                    return Err(OnnxError(format!("{layer}: Conv without weight and bias")));
                };
                let (w, b) = (initializer(w)?, initializer(b)?);
                let expected = [cout, cin, 3, 3].map(|d| d as i64);
                if w.dims != expected || b.dims != [cout as i64] {
                    return Err(OnnxError(format!(
                        "{layer}: kernel {:?} and bias {:?}, expected {expected:?} and [{cout}]",
                        w.dims, b.dims
                    )));
                }
                let (weight, bias) = (w.floats()?, b.floats()?);
                if weight.len() != cout * cin * 9 || bias.len() != cout {
                    return Err(OnnxError(format!(
                        "{layer}: {} kernel and {} bias values for {expected:?} and [{cout}]",
                        weight.len(),
                        bias.len()
                    )));
                }
                Ok(ConvWeights {
                    weight,
                    bias,
                    in_channels: cin,
                    out_channels: cout,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { layers })
    }
}

/// The int8 convolutions of a quantized (QDQ) ONNX graph, in graph order, each named by its
/// kernel's scope (the initializer's name without `/weights` or `/depthwise_weights`).
///
/// The kernels and their per-channel scales are taken as stored, never re-quantized; the
/// int32 bias is dequantized as `DequantizeLinear` does, `int32 × scale` in `f32`. A `Conv`
/// without a bias gets zeros. Zero points must be 0 (symmetric quantization).
pub fn quantized_convs(bytes: &[u8]) -> Result<Vec<(String, QuantizedConv)>, OnnxError> {
    let graph = decode_graph(bytes)?;
    let initializers: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let producers: HashMap<&str, &NodeProto> = graph
        .node
        .iter()
        .flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n)))
        .collect();
    // The (value, scale) initializers behind a DequantizeLinear of a constant.
    let dequantized = |name: &str| -> Result<(&TensorProto, Vec<f32>), OnnxError> {
        let node = producers
            .get(name)
            .filter(|n| n.op_type == "DequantizeLinear")
            .ok_or_else(|| OnnxError(format!("`{name}` is not a DequantizeLinear output")))?;
        let input = |i: usize| {
            node.input
                .get(i)
                .and_then(|n| initializers.get(n.as_str()).copied())
                .ok_or_else(|| OnnxError(format!("`{name}`: input {i} is not a constant")))
        };
        let (value, scale) = (input(0)?, input(1)?.floats()?);
        if let Ok(zero) = input(2) {
            let zero_is_0 = match zero.data_type {
                ONNX_INT8 => zero.int8s()?.iter().all(|&z| z == 0),
                _ => zero.int32s()?.iter().all(|&z| z == 0),
            };
            if !zero_is_0 {
                return Err(OnnxError(format!("`{name}`: zero point is not 0")));
            }
        }
        Ok((value, scale))
    };
    let mut convs: Vec<(String, QuantizedConv)> = Vec::new();
    for node in graph.node.iter().filter(|n| n.op_type == "Conv") {
        let kernel_input = node.input.get(1).map(String::as_str).unwrap_or_default();
        let (kernel, scale) = dequantized(kernel_input)?;
        let name = kernel
            .name
            .trim_end_matches("/depthwise_weights")
            .trim_end_matches("/weights")
            .to_string();
        let sides: Option<Vec<usize>> = kernel
            .dims
            .iter()
            .map(|&d| usize::try_from(d).ok())
            .collect();
        let Some(&[out, cin, k, k2]) = sides.as_deref() else {
            return Err(OnnxError(format!(
                "{name}: kernel {:?} is not 4-d with sides ≥ 0",
                kernel.dims
            )));
        };
        if k != k2 || scale.len() != out {
            return Err(OnnxError(format!(
                "{name}: kernel {:?} with {} scales",
                kernel.dims,
                scale.len()
            )));
        }
        let bias = match node.input.get(2) {
            None => vec![0.0; out],
            Some(b) => {
                let (bias, bias_scale) = dequantized(b)?;
                let bias = bias.int32s()?;
                if bias.len() != out || bias_scale.len() != out {
                    return Err(OnnxError(format!("{name}: bias is not [{out}]")));
                }
                bias.iter()
                    .zip(&bias_scale)
                    .map(|(&b, &s)| b as f32 * s)
                    .collect()
            }
        };
        if convs.iter().any(|(n, _)| *n == name) {
            return Err(OnnxError(format!("two convolutions are named `{name}`")));
        }
        let weight = kernel.int8s()?;
        let count = [out, cin, k, k2]
            .into_iter()
            .try_fold(1usize, usize::checked_mul);
        if count != Some(weight.len()) {
            return Err(OnnxError(format!(
                "{name}: {} kernel values for {:?}",
                weight.len(),
                kernel.dims
            )));
        }
        let conv = QuantizedConv {
            weight,
            scale,
            bias,
            in_channels: cin,
            out_channels: out,
            kernel_size: k,
        };
        convs.push((name, conv));
    }
    Ok(convs)
}

#[cfg(test)]
mod tests;
