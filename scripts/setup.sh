#!/usr/bin/env bash
# Set up mio on a fresh machine: a Vulkan driver Dawn accepts (only when none is present), then npm ci and the build.
# Idempotent: every step checks before it acts, so re-running is cheap and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# A machine with a vendor GPU driver (NVIDIA, AMD's amdvlk, ...) exposes a Vulkan ICD of its own; leave it alone.
# Mesa's package ships ICDs for Intel, Radeon and others next to lavapipe whether or not such a GPU exists, so
# those do not count: with Mesa < 23 Dawn would reject lavapipe.
has_gpu_icd() {
  local f
  for f in /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; do
    [ -e "$f" ] || continue
    dpkg-query -S "$f" 2>/dev/null | grep -q '^mesa-vulkan-drivers' && continue
    return 0
  done
  return 1
}

# Dawn rejects Mesa < 23 lavapipe ("shaderUniform*ArrayDynamicIndexing required").
mesa_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed' \
    && dpkg --compare-versions "$v" ge 23
}

install_vulkan_debian12() {
  local list=/etc/apt/sources.list.d/bookworm-backports.list
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding bookworm-backports to $list"
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | as_root tee "$list" >/dev/null
  fi
  log "installing libvulkan1 and mesa-vulkan-drivers (Mesa >= 23) from bookworm-backports"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t bookworm-backports \
    libvulkan1 mesa-vulkan-drivers >/dev/null
}

ensure_vulkan() {
  if mesa_ok; then log "Mesa Vulkan drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"; return; fi
  if has_gpu_icd; then log "a vendor GPU Vulkan driver is present; not touching drivers"; return; fi
  . /etc/os-release 2>/dev/null || true
  if [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]; then
    install_vulkan_debian12 || { log "could not install drivers (need root or sudo)"; exit 1; }
  elif [ "${ID:-}" = debian ] || [ "${ID:-}" = ubuntu ] || [ "${ID_LIKE:-}" = debian ]; then
    log "install Vulkan and Mesa >= 23 yourself: sudo apt-get install libvulkan1 mesa-vulkan-drivers"
  elif [ "${ID:-}" = fedora ] || [[ "${ID_LIKE:-}" == *fedora* ]]; then
    log "install Vulkan and Mesa >= 23 yourself: sudo dnf install vulkan-loader mesa-vulkan-drivers"
  elif [ "${ID:-}" = arch ] || [[ "${ID_LIKE:-}" == *arch* ]]; then
    log "install Vulkan and Mesa >= 23 yourself: sudo pacman -S vulkan-icd-loader vulkan-swrast"
  else
    log "install a Vulkan loader and a driver (a GPU driver, or Mesa >= 23 lavapipe) for ${PRETTY_NAME:-this system}"
  fi
}

ensure_vulkan
log "npm ci"
npm ci --no-audit --no-fund --loglevel=error
log "build"
npm run build --silent
log "done: try 'npx mioc doctor'"
