"""Reference VGG16 activations from the original float ONNX network, run by ONNX Runtime.

The Rust tests write an image as raw little-endian float32 (planar RGB in [0, 1], shape
[3, H, W]) and call this script, which applies the Keras VGG16 preprocessing itself
(RGB -> BGR, x255, minus the ImageNet mean), exposes the requested ReLU outputs of the graph
and writes each as raw float32 in NCHW order to OUT_DIR/<layer>.f32.

usage: vgg_features.py MODEL.onnx IMAGE.f32 HEIGHT WIDTH OUT_DIR relu1_1 [relu4_2 ...]
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime

MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def relu_output(layer: str) -> str:
    block, conv = layer.removeprefix("relu").split("_")
    return f"functional_1/block{block}_conv{conv}_1/Relu:0"


def main() -> None:
    model_path, image_path, height, width, out_dir, *layers = sys.argv[1:]
    height, width = int(height), int(width)
    rgb = np.fromfile(image_path, dtype="<f4").reshape(3, height, width)
    bgr = rgb[::-1].transpose(1, 2, 0) * 255.0 - MEAN_BGR  # HWC, as Keras expects
    batch = bgr[np.newaxis].astype(np.float32)

    model = onnx.load(model_path)
    graph = model.graph
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_param, dims[2].dim_param = "height", "width"
    outputs = [relu_output(layer) for layer in layers]
    # Keep only the convolutional trunk, up to the deepest layer asked for: the nodes are in
    # network order, and the classifier behind them only accepts 240x240 inputs.
    last = max(i for i, node in enumerate(graph.node) if node.output[0] in outputs)
    trunk = list(graph.node[: last + 1])
    used = {name for node in trunk for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:], graph.initializer[:], graph.output[:]
    graph.node.extend(trunk)
    graph.initializer.extend(kept)
    graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in outputs)
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    results = session.run(outputs, {graph.input[0].name: batch})
    os.makedirs(out_dir, exist_ok=True)
    for layer, value in zip(layers, results):
        value.astype("<f4").tofile(os.path.join(out_dir, f"{layer}.f32"))


if __name__ == "__main__":
    main()
