#!/usr/bin/env bash
# The e2e tests drive Debian's Chromium (never a downloaded browser build), and the Node WebGPU
# unit test needs the Vulkan loader (libvulkan1) to reach Chromium's SwiftShader ICD. Install
# what is missing when we may (root with apt-get); otherwise explain what to do.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
need=()
[ -x "$CHROMIUM" ] || need+=(chromium)
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then need+=(libvulkan1); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} for the browser tests…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "Chromium is missing at $CHROMIUM. Install it with: sudo apt-get install -y chromium (or set CHROMIUM_PATH)." >&2
  exit 1
fi
echo "Note: libvulkan1 is missing, so the Node WebGPU unit test will skip (sudo apt-get install -y libvulkan1)." >&2
