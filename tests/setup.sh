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

vulkan_driver() { echo "Mesa lavapipe (software Vulkan)"; }
