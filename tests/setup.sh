#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks. Sourced by tests/run.sh; every step
# is skipped when its tool is already there.
set -euo pipefail

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A Vulkan driver that runs on the CPU (Mesa's lavapipe), so the wgpu backend is tested too.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  echo "installing Mesa's software Vulkan driver" >&2
  apt_install mesa-vulkan-drivers libvulkan1
fi

# Chromium for the browser tests (WebGPU runs on its SwiftShader).
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium" >&2
  apt_install chromium
fi

# The Rust target of the web build; the pinned wasm-bindgen CLI is installed by www/build.mjs.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# The CPU engine's threaded module (www/build.mjs): the nightly toolchain rebuilds the standard
# library with atomics (`-Z build-std`), from its source.
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
  fi
  rustup component add rust-src --toolchain nightly
fi

# The test tools (playwright-core, axe-core, typescript), at the versions in tests/package-lock.json.
if [ ! -d tests/node_modules/playwright-core ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi
