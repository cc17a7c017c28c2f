#!/usr/bin/env bash
# Every test of the project: formatting, lints, the Rust tests (engine, reference, CLI) on the
# CPU backend and, through a software Vulkan driver, on wgpu. Installs what it needs first.
#
#   bash tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${STYLE_TRANSFER_CACHE:-$HOME/.cache/style-transfer}/target}"
source tests/setup.sh
source tests/fetch-fixtures.sh >/dev/null

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (native, release profile)"
cargo clippy --release --workspace --all-targets -- -D warnings

step "cargo test (CPU backend; wgpu on $(vulkan_driver))"
STYLE_TRANSFER_REQUIRE_GPU=1 cargo test --release --workspace
