#!/usr/bin/env bash
# Sets up a Debian or Raspberry Pi OS machine for earshot development: the system
# packages the runtime and the tests use, then the npm dependencies (which also builds
# the TypeScript). Idempotent: it installs only what is missing and can be re-run.
#
# Usage: scripts/setup.sh [--no-npm]
set -euo pipefail
cd "$(dirname "$0")/.."

# alsa-utils: arecord/aplay (capture and playback); libasound2-dev: builds the optional
# `speaker` module; sox + libsox-fmt-all: fixtures, FLAC decoding for the benchmark;
# flite, espeak-ng: fixtures and the reference cloud's spoken replies; mosquitto: the
# MQTT tests' broker; openssl: development certificates; mtools, fdisk, e2fsprogs,
# dosfstools, xz-utils: the Pi image builder and its tests; shellcheck: script lint;
# qemu-user-static, libc6-arm64-cross, libstdc++6-arm64-cross: the arm64 run of the pipeline;
# systemd: systemd-analyze and systemd-notify; util-linux: unshare for GPIO sysfs and
# SPI tests; python3: a datagram listener in the notify test, and with build-essential
# node-gyp's build of the native optional modules (spi-device, epoll) the tests load;
# pocketsphinx + pocketsphinx-en-us, lame: the Home Assistant stand-in's speech-to-text
# and its mp3 answers; chromium: the owner's web page tests (driven by playwright-core,
# which downloads no browser of its own).
packages=(
  alsa-utils libasound2-dev sox libsox-fmt-all flite espeak-ng mosquitto openssl
  pocketsphinx pocketsphinx-en-us lame chromium
  mtools fdisk e2fsprogs dosfstools xz-utils shellcheck systemd util-linux
  qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross python3 build-essential
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "setup: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [[ ${1:-} != --no-npm ]]; then
  # onnxruntime-node would otherwise try to download CUDA libraries it does not need.
  export ONNXRUNTIME_NODE_INSTALL=skip
  if [[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]]; then
    npm run --silent build
  else
    npm ci --no-audit --no-fund
  fi
fi
echo "setup: done"
