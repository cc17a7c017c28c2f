#!/usr/bin/env bash
# Every test of the project, after installing what it needs:
#   - formatting and lints (native and wasm);
#   - the Rust tests: engine, references against ONNX Runtime, CLI, on burn's CPU backend and,
#     through Mesa's software Vulkan driver, on wgpu;
#   - the browser tests: the web build in Debian's Chromium, WebGPU on SwiftShader and the
#     CPU fallback.
# Each stage's wall time is printed as it ends and again, as a table, when the run ends
# (passed or not); STYLE_TRANSFER_TIMINGS=FILE also writes the table to FILE.
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
source tests/timing.sh

step "setup: packages, toolchain targets, npm, reference networks"
source tests/setup.sh
source tests/fetch-fixtures.sh >/dev/null

step "cargo fmt --check"
cargo fmt --all -- --check

# Clippy lints our crate as the builds compile it: clippy-driver as the workspace's compiler
# wrapper, with the arguments `cargo clippy -- -D warnings` would give it, so no dependency is
# compiled a second time for a check build (a separate `cargo clippy` checks all of them
# again, natively and for wasm). The canary makes sure the wrapper still denies warnings.
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
canary="$(mktemp -d)"
# A warning by default (clippy::needless_return), so only `-D warnings` makes it an error.
printf 'pub fn f() -> u32 {\n    return 1;\n}\n' >"$canary/lib.rs"
if "$RUSTC_WORKSPACE_WRAPPER" rustc --edition 2024 --crate-type lib --out-dir "$canary" "$canary/lib.rs" 2>/dev/null; then
  echo "clippy-driver did not deny a lint: CLIPPY_ARGS is no longer how it takes -D warnings" >&2
  exit 1
fi
rm -rf "$canary"
# STYLE_TRANSFER_CARGO_TIMINGS=1: both cargo builds write their timing reports (cargo-timings/).
timings=()
if [ "${STYLE_TRANSFER_CARGO_TIMINGS:-}" = 1 ]; then timings=(--timings); fi

# The web build (the WebGPU module, linted for wasm as it compiles; the CPU module with its
# thread pool, on nightly; wasm-opt for both) runs alongside the native build and the Rust
# tests: each has single-threaded stretches (the last crates of
# burn, LTO, wasm-opt, link steps) in which the other uses the second core. They build into
# different profile directories, so neither waits for the other's lock.
background "web build: the two modules for wasm, linted; wasm-opt (www/build.mjs)" node www/build.mjs

step "cargo test, linted by clippy: CPU backend, and wgpu on Mesa's lavapipe"
STYLE_TRANSFER_REQUIRE_GPU=1 cargo test --profile ci --workspace "${timings[@]}"
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS

step "web build: the rest of it, and its output"
await_background

step "browser tests: Chromium, WebGPU on SwiftShader and the CPU fallback"
(cd tests && npm test)

step_done
