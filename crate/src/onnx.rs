//! Reads the float VGG16 convolutions out of an ONNX file (native only).
//!
//! Only the few protobuf fields needed are declared. The first eleven `Conv` nodes of the
//! graph, in order, are `conv1_1` … `conv5_1`; their kernels must be `[out, in, 3, 3]` as
//! ONNX stores them.

use prost::Message;

use crate::weights::{CONV_CHANNELS, CONV_LAYERS, ConvWeights, VggWeights};

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
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

/// ONNX's code for `float32`.
const ONNX_FLOAT: i32 = 1;

/// Why an ONNX file could not give VGG16's convolutions.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OnnxError(String);

impl TensorProto {
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
        let model =
            ModelProto::decode(bytes).map_err(|e| OnnxError(format!("not an ONNX model: {e}")))?;
        let graph = model
            .graph
            .ok_or_else(|| OnnxError("the ONNX model has no graph".into()))?;
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
                Ok(ConvWeights {
                    weight: w.floats()?,
                    bias: b.floats()?,
                    in_channels: cin,
                    out_channels: cout,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
