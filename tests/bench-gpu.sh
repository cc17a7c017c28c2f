#!/usr/bin/env bash
# The GPU benchmark, for a machine with a real GPU (a few minutes; not a test): natively on
# wgpu, which compiles the same WGSL as the browser, per-iteration time and GPU memory at
# 128–1024 px and per-layer GFLOP/s, burn's direct convolution against our implicit-GEMM
# kernel side by side; print sizes (512–4096 px) whole and tiled with their GPU memory; then, where
# Chromium is installed, the browser benchmark on WebGPU.
#
# Build here, run there (the GPU machine needs no Rust). What travels there is limited to
# 64 MiB, and bench is about 110 MB, so it goes stripped and gzipped (25 MB):
#   cargo build --release --bin bench && mkdir -p .gpu \
#     && strip -o .gpu/bench "$CARGO_TARGET_DIR/release/bench" && gzip -9f .gpu/bench
#   bash tests/bench-gpu.sh [path/to/bench]       # default .gpu/bench, else .gpu/bench.gz unpacked
# Without a Vulkan loader on the machine, unpack Debian's libvulkan1 (.deb files in .gl/).
# SIZES, LAYER_SIZES, FAST_SIZES, ITERATIONS and PRINT_ROWS (size:budget …) override the
# defaults, BROWSER=0 skips the browser (a quick local try on lavapipe: SIZES=32
# LAYER_SIZES=32 FAST_SIZES=64 ITERATIONS=1 PRINT_ROWS=32:65536 BROWSER=0).
set -euo pipefail
cd "$(dirname "$0")/.."

bench="${1:-.gpu/bench}"
if [ ! -x "$bench" ] && [ -f "$bench.gz" ]; then
  unpacked="$(mktemp)"
  gunzip -c "$bench.gz" >"$unpacked"
  chmod +x "$unpacked"
  bench="$unpacked"
fi
sizes="${SIZES:-128,256,512,1024}"
layer_sizes="${LAYER_SIZES:-128,512,1024}"
fast_sizes="${FAST_SIZES:-256,512,1024}"
iterations="${ITERATIONS:-5}"

# (grep without -q: with pipefail, an early exit would fail ldconfig with SIGPIPE.)
if ! ldconfig -p | grep libvulkan >/dev/null && [ -d .gl ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES="$nvidia_icd"
fi
# wgpu probes Wayland through this variable; without it, it prints errors (harmless).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi"
nproc

echo "== native wgpu: both kernels, per iteration and per layer"
"$bench" --backend gpu --kernels direct,gemm --sizes "$sizes" --iterations "$iterations" \
  --layer-sizes "$layer_sizes" --fast-sizes "$fast_sizes"

echo "== print size: whole (a 64 GiB budget) and tiled (a 1 GiB budget), one process a row"
# (Peak GPU memory is the process's pool, so each row runs alone.)
echo "| backend | kernel | size | first iteration | steady ms/iteration | GFLOP/iteration | GFLOP/s | peak memory |"
for row in ${PRINT_ROWS:-512:65536 1024:65536 2048:65536 1024:1024 2048:1024 4096:1024}; do
  "$bench" --backend gpu --kernels gemm --sizes "${row%%:*}" --iterations 2 \
    --memory-budget "${row##*:}" --layer-sizes none --fast-sizes none | grep "^| Gpu | gemm |"
done

echo "== browser (WebGPU)"
if [ "${BROWSER:-1}" = 0 ]; then
  echo "skipped: BROWSER=0"
elif command -v chromium >/dev/null && [ -d tests/node_modules ] && [ -f www/pkg/build.json ]; then
  (cd tests && node bench-browser.mjs --paths webgpu --sizes 64,512 --iterations 5 --quick-sizes 512,1024)
else
  echo "skipped: needs chromium, tests/node_modules and a web build (www/pkg)"
fi
