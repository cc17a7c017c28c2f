#!/usr/bin/env bash
# Every test of the project, after installing what it needs:
#   - formatting and lints (native and wasm);
#   - the Rust tests: engine, references against ONNX Runtime, CLI, on burn's CPU backend and,
#     through Mesa's software Vulkan driver, on wgpu;
#   - the browser tests: the web build in Debian's Chromium, WebGPU on SwiftShader and the
#     CPU fallback.
#
#   bash tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export STYLE_TRANSFER_CACHE="${STYLE_TRANSFER_CACHE:-$HOME/.cache/style-transfer}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$STYLE_TRANSFER_CACHE/target}"
# wgpu probes Wayland through this variable; without it, it prints errors (harmless).
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
fi
source tests/setup.sh
source tests/fetch-fixtures.sh >/dev/null

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy, native"
cargo clippy --release --workspace --all-targets -- -D warnings

step "cargo clippy, wasm (web profile)"
cargo clippy --lib -p style-transfer --target wasm32-unknown-unknown --profile web -- -D warnings

step "cargo test: CPU backend, and wgpu on Mesa's lavapipe"
STYLE_TRANSFER_REQUIRE_GPU=1 cargo test --release --workspace

step "web build (wasm-pack.toml profile)"
node www/build.mjs

step "browser tests: Chromium, WebGPU on SwiftShader and the CPU fallback"
(cd tests && npm test)
