#!/usr/bin/env bash
# Installs earshot on a running Raspberry Pi OS (or Debian) system, from a built source
# tree (`npm ci && npm run build`) or from the bundle scripts/build-image.sh puts on a
# card's boot partition. Idempotent: a re-run updates the runtime and the unit, keeps the
# config, and restarts the daemon.
#
#   sudo scripts/install.sh [--config FILE] [--no-packages] [--no-npm] [--no-start]
#   sudo scripts/install.sh --uninstall [--purge]
#   scripts/install.sh --dry-run ...        print every action, change nothing
#   scripts/install.sh --root DIR ...       install into DIR as a root file system
#
# What goes where:
#   /opt/earshot/            dist/, package.json, package-lock.json, hardware/, systemd/,
#                            models/ (the wake-word verifier), scripts/install.sh,
#                            node_modules/ (npm ci --omit=dev)
#   /etc/earshot/config.yaml from --config, else the bundle's config.yaml, else
#                            scripts/config.template.yaml; only when absent (0640 root:earshot)
#   /etc/earshot/tls/        the bundle's tls/ files (device certificate, key, CA), if any
#   /etc/systemd/system/earshot.service, enabled and (re)started
#   /var/lib/earshot/        the ledger (created by systemd, StateDirectory=) and the web
#                            page's self-signed certificate (dashboard.crt/.key)
#   /usr/local/bin/earshot   a link to the CLI, so `earshot doctor` works from any shell
#   /boot/firmware/config.txt  the board profile's overlay and dtparam lines, in one
#                            block between "# earshot board setup" markers (a reboot
#                            applies them)
#   /etc/asound.conf         the board's sound card as ALSA's default (boards that name
#                            one); an asound.conf that earshot did not write is kept
#
# Node.js: earshot needs Node.js >= 20.19. Raspberry Pi OS Trixie (Debian 13) ships it
# as `nodejs`. Bookworm (Debian 12) ships 18, which is too old: install Node.js 20 from
# NodeSource's Debian repository, or unpack the official linux-arm64 tarball into
# /usr/local, then re-run this script (it finds `node` on PATH and points the unit at it).
#
# --uninstall removes the runtime, the unit and its enablement, the CLI link, the
# config.txt block and earshot's asound.conf, but keeps /etc/earshot (config,
# certificates) and /var/lib/earshot (the ledger); --purge removes those and the
# `earshot` user too.
#
# --root DIR writes files under DIR instead of /, does not touch the running system
# (no apt-get, no systemctl: the unit is enabled by the same symlink `systemctl enable`
# makes) and creates the user with `useradd --prefix DIR` when DIR/etc/passwd exists.
# npm still runs there unless --no-npm: native modules are built for this machine's CPU.
#
# --first-boot is what the image's cloud-init runcmd uses: once config and certificates
# are in /etc/earshot it deletes them from the (world-readable FAT) boot partition, and
# after a successful install it deletes the whole bundle.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
unit=earshot.service
user=earshot

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

dry_run=0 root_mode=0 root="" config="" packages=1 npm=1 start=1 uninstall=0 purge=0 first_boot=0
while (($# > 0)); do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --root)
      (($# >= 2)) || usage
      root_mode=1 root=${2%/}
      shift
      ;;
    --config)
      (($# >= 2)) || usage
      config=$2
      shift
      ;;
    --no-packages) packages=0 ;;
    --no-npm) npm=0 ;;
    --no-start) start=0 ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    --first-boot) first_boot=1 ;;
    -h | --help) usage ;;
    *)
      echo "install: unknown option $1" >&2
      usage
      ;;
  esac
  shift
done

say() { printf 'install: %s\n' "$*"; }
warn() { printf 'install: warning: %s\n' "$*" >&2; }
die() {
  printf 'install: error: %s\n' "$*" >&2
  exit 1
}

# Every change goes through run/run_in/write_file, so --dry-run can print it instead.
# A command line as a shell would need it typed, quoting only the words that need it.
quoted() {
  local arg out=()
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$arg"); else out+=("$(printf '%q' "$arg")"); fi
  done
  printf '%s' "${out[*]}"
}
run() {
  if ((dry_run)); then
    printf '+ %s\n' "$(quoted "$@")"
  else
    "$@"
  fi
}
run_in() {
  local dir=$1
  shift
  if ((dry_run)); then
    printf '+ (cd %s && %s)\n' "$(quoted "$dir")" "$(quoted "$@")"
  else
    (cd "$dir" && "$@")
  fi
}
# write_file PATH MODE: the content comes on stdin. MODE - keeps the file's mode (a FAT
# file system such as /boot/firmware has none to set).
write_file() {
  local content
  content=$(cat)
  if ((dry_run)); then
    printf '+ write %s (mode %s):\n    %s\n' "$(quoted "$1")" "$2" "${content//$'\n'/$'\n'    }"
  else
    printf '%s\n' "$content" >"$1"
    [[ $2 == - ]] || chmod "$2" "$1"
  fi
}
# For what --root mode leaves to the running system: say it, do not do it.
skip() { say "skipped (--root): $*"; }
# Network steps on first boot may race Wi-Fi coming up: a few tries, 10 s apart.
retry() {
  local n
  for n in 1 2 3 4 5 6; do
    "$@" && return 0
    ((dry_run)) && return 0
    ((n < 6)) && warn "attempt $n failed: $*; retrying in 10 s" && sleep 10
  done
  return 1
}

((purge == 0 || uninstall == 1)) || die "--purge goes with --uninstall"
if ((root_mode)); then
  [[ -n $root && -d $root ]] || die "--root ${root:-/}: not a directory"
  root=$(cd "$root" && pwd)
fi
if ((!dry_run && !root_mode)) && [[ $(id -u) -ne 0 ]]; then
  die "run as root (sudo $0 ...), or try --dry-run"
fi

opt=$root/opt/earshot
etc=$root/etc/earshot
state=$root/var/lib/earshot
unit_dir=$root/etc/systemd/system
wants=$unit_dir/multi-user.target.wants/$unit

# The user and group database this run changes: the host's, or DIR's with --prefix.
prefix=()
have_users=1
if ((root_mode)); then
  if [[ -f $root/etc/passwd && -f $root/etc/group ]]; then prefix=(--prefix "$root"); else have_users=0; fi
fi
group_exists() {
  if ((root_mode)); then grep -q "^$1:" "$root/etc/group" 2>/dev/null; else getent group "$1" >/dev/null; fi
}
user_exists() {
  if ((root_mode)); then grep -q "^$1:" "$root/etc/passwd" 2>/dev/null; else id -u "$1" >/dev/null 2>&1; fi
}
# install(1) owner flags for files the daemon reads: root-owned, readable by its group.
# A numeric gid under --root: the host's group database does not know DIR's groups.
owner_flags() {
  if ((root_mode)); then
    local gid
    gid=$(awk -F: -v g="$user" '$1 == g { print $3 }' "$root/etc/group" 2>/dev/null || true)
    if [[ -n $gid && $(id -u) -eq 0 ]]; then printf '%s\n' -o 0 -g "$gid"; fi
  else
    printf '%s\n' -o root -g "$user"
  fi
}

# The Pi's config.txt: /boot/firmware on Bookworm and later, /boot before.
config_txt() {
  local f
  for f in "$root/boot/firmware/config.txt" "$root/boot/config.txt"; do
    [[ -f $f ]] && printf '%s\n' "$f" && return 0
  done
  return 1
}
earshot_cli() { node "$src/dist/cli/main.js" "$@"; }

# The board profile's config.txt block and default sound card (see `earshot board show`).
install_board() {
  local cfg txt new conf asound=$root/etc/asound.conf overlay rc=0
  cfg=$etc/config.yaml
  [[ -f $cfg ]] || cfg=$config_src
  say "board set-up: $(earshot_cli board show -c "$cfg" | head -n 1)"
  if txt=$(config_txt); then
    new=$(earshot_cli board config-txt "$txt" -c "$cfg") || die "cannot work out the config.txt lines"
    if [[ $new == "$(cat "$txt")" ]]; then
      say "$txt already has the board's lines"
    else
      say "writing the board's lines into $txt (they take effect after a reboot)"
      printf '%s\n' "$new" | write_file "$txt" -
    fi
  else
    warn "no config.txt under ${root:-/}boot: add these lines to it yourself:"
    earshot_cli board block -c "$cfg" | sed 's/^/    /' >&2
  fi
  overlay=$(earshot_cli board show -c "$cfg" | sed -n 's/^overlay not shipped with Raspberry Pi OS: //p')
  if [[ -n $overlay && ! -f $root/boot/firmware/overlays/$overlay ]]; then
    warn "the overlay $overlay is not in $root/boot/firmware/overlays: $(earshot_cli board show -c "$cfg" | tail -n 1 | sed 's/^ *//')"
  fi
  conf=$(earshot_cli board asound -c "$cfg") || rc=$?
  if ((rc == 3)); then
    if [[ -f $asound ]] && head -n 1 "$asound" | grep -q "^# Written by earshot's installer"; then
      say "the board names no sound card: removing earshot's $asound"
      run rm -f "$asound"
    fi
  elif ((rc != 0)); then
    die "cannot work out the ALSA configuration for the board"
  elif [[ -f $asound ]] && ! head -n 1 "$asound" | grep -q "^# Written by earshot's installer"; then
    warn "keeping your $asound: make the board's card the default yourself if you want ($(earshot_cli board show -c "$cfg" | sed -n 's/^sound card: //p'))"
  elif [[ -f $asound && $(cat "$asound") == "$conf" ]]; then
    say "$asound already makes the board's card the default"
  else
    say "writing $asound: the board's card is the default for capture and playback"
    run install -d -m 0755 "$root/etc"
    printf '%s\n' "$conf" | write_file "$asound" 0644
  fi
}

# The block without node (the runtime may be half gone): awk drops it and the one blank
# line before it, as the installer added them.
uninstall_board() {
  local txt new asound=$root/etc/asound.conf
  if txt=$(config_txt) && grep -q '^# earshot board setup: begin' "$txt"; then
    new=$(awk '
      /^# earshot board setup: begin/ { skip = 1; blank = 0; next }
      skip { if (/^# earshot board setup: end/) skip = 0; next }
      { if (blank) { print ""; blank = 0 } if ($0 == "") { blank = 1; next } print }
      END { if (blank) print "" }' "$txt")
    say "removing earshot's lines from $txt (a reboot applies it)"
    printf '%s\n' "$new" | write_file "$txt" -
  fi
  if [[ -f $asound ]] && head -n 1 "$asound" | grep -q "^# Written by earshot's installer"; then
    run rm -f "$asound"
  fi
}

# `earshot` on PATH for people (the unit runs dist/cli/main.js itself).
link_cli() {
  run chmod 0755 "$opt/dist/cli/main.js"
  run install -d -m 0755 "$root/usr/local/bin"
  run ln -sfn /opt/earshot/dist/cli/main.js "$root/usr/local/bin/earshot"
}

uninstall() {
  say "removing earshot from ${root:-/}"
  if ((root_mode)); then
    skip "systemctl disable --now $unit"
  elif [[ -e $unit_dir/$unit ]]; then
    run systemctl disable --now "$unit" || warn "could not stop $unit"
  fi
  run rm -f "$wants" "$unit_dir/$unit"
  run rm -rf "$unit_dir/$unit.d"
  if ((!root_mode)); then
    run systemctl daemon-reload
    run systemctl reset-failed "$unit" 2>/dev/null || true
  fi
  uninstall_board
  if [[ -L $root/usr/local/bin/earshot && $(readlink "$root/usr/local/bin/earshot") == /opt/earshot/* ]]; then
    run rm -f "$root/usr/local/bin/earshot"
  fi
  run rm -rf "$opt"
  if ((purge)); then
    run rm -rf "$etc" "$state"
    if ((have_users)) && user_exists "$user"; then run userdel "${prefix[@]}" "$user"; fi
    say "purged: config, certificates, ledger and the $user user are gone"
  else
    say "kept $etc (config) and $state (ledger); --uninstall --purge removes them"
  fi
}

# True when `node` is new enough for earshot (engines: >= 20.19).
node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null
}

install_packages() {
  # alsa-utils: arecord/aplay; sox: audio conversion for earcons and checks;
  # build-essential, python3, libasound2-dev: node-gyp builds epoll (GPIO edges for
  # onoff) and speaker; systemd: systemd-notify for the readiness and watchdog messages.
  local pkgs=(alsa-utils sox ca-certificates systemd build-essential python3 libasound2-dev)
  if ! node_ok; then
    local codename=""
    # shellcheck disable=SC1091
    [[ -r /etc/os-release ]] && codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    case "$codename" in
      bookworm | bullseye | buster)
        die "Debian/Raspberry Pi OS $codename ships Node.js older than 20.19. Install Node.js 20
  from NodeSource's Debian repository or the official linux-arm64 tarball (into /usr/local),
  then re-run this script; or start from a Raspberry Pi OS Trixie image." ;;
    esac
    pkgs+=(nodejs)
  fi
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
  say "installing system packages: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The lock timeout covers apt-daily, which likes to run right after the first boot.
  retry run apt-get -o DPkg::Lock::Timeout=300 update -qq || die "apt-get update failed"
  run apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${pkgs[@]}"
  ((dry_run)) || node_ok || die "node $(node --version 2>/dev/null || echo missing) is older than 20.19"
}

create_user() {
  if ((!have_users)); then
    skip "no $root/etc/passwd: would create groups gpio, spi and system user $user (groups audio, gpio, spi)"
    return
  fi
  # Raspberry Pi OS has a gpio group (udev gives it the GPIO files); plain Debian does not.
  # spi: /dev/spidev* for boards whose LEDs are on SPI (Raspberry Pi OS's udev rules).
  group_exists gpio || run groupadd "${prefix[@]}" --system gpio
  group_exists spi || run groupadd "${prefix[@]}" --system spi
  group_exists audio || run groupadd "${prefix[@]}" --system audio
  if user_exists "$user"; then
    run usermod "${prefix[@]}" -a -G audio,gpio,spi "$user"
  else
    say "creating system user $user"
    run useradd "${prefix[@]}" --system --user-group --home-dir /var/lib/earshot \
      --no-create-home --shell /usr/sbin/nologin --comment "earshot daemon" \
      --groups audio,gpio,spi "$user"
  fi
}

install_config() {
  local flags f name
  mapfile -t flags < <(owner_flags)
  run install -d -m 0755 "$etc"
  if [[ -e $etc/config.yaml ]]; then
    say "keeping $etc/config.yaml (never overwritten)"
  else
    say "writing $etc/config.yaml from $config_src"
    run install -m 0640 "${flags[@]}" "$config_src" "$etc/config.yaml"
  fi
  if [[ -d $src/tls ]]; then
    run install -d -m 0750 "${flags[@]}" "$etc/tls"
    for f in "$src"/tls/*; do
      [[ -f $f ]] || continue
      name=$(basename "$f")
      if [[ -e $etc/tls/$name ]]; then
        say "keeping $etc/tls/$name"
      else
        run install -m 0640 "${flags[@]}" "$f" "$etc/tls/$name"
      fi
    done
  fi
  if ((first_boot)); then
    # The boot partition is FAT: no permissions, readable by every local user.
    say "removing the bundle's secrets from $src"
    run rm -rf "$src/config.yaml" "$src/tls"
  fi
}

# The owner's web page (dashboard.*, off by default) needs HTTPS off loopback: each
# device makes its own self-signed certificate once (never baked into an image), in the
# state directory the service user owns; `earshot doctor` shows its fingerprint.
install_dashboard_cert() {
  if ((root_mode)); then
    skip "the web page's certificate (made on the device by earshot dashboard cert)"
    return
  fi
  if [[ -f $state/dashboard.crt ]]; then
    say "keeping $state/dashboard.crt"
    return
  fi
  say "making the web page's self-signed certificate in $state"
  run install -d -m 0750 -o "$user" -g "$user" "$state"
  run node "$src/dist/cli/main.js" dashboard cert --set "device.stateDir=$state" ||
    warn "no certificate for the web page: run earshot dashboard cert later"
}

install_runtime() {
  local d
  say "installing the runtime into $opt"
  # Root-owned and read-only to the daemon: a compromised daemon cannot rewrite itself.
  run install -d -m 0755 "$opt" "$opt/scripts"
  for d in dist hardware systemd models; do
    run rm -rf "$opt/$d"
    run cp -R "$src/$d" "$opt/$d"
    run chmod -R u=rwX,go=rX "$opt/$d"
  done
  run install -m 0644 "$src/package.json" "$src/package-lock.json" "$opt/"
  run install -m 0755 "$src/scripts/install.sh" "$opt/scripts/install.sh"
  # earshot certs runs it (a CA is better kept on another computer, but it works here).
  if [[ -f $src/scripts/make-certs.sh ]]; then
    run install -m 0755 "$src/scripts/make-certs.sh" "$opt/scripts/make-certs.sh"
  fi
  run install -m 0644 "$src/scripts/config.template.yaml" "$opt/scripts/config.template.yaml"
}

install_dependencies() {
  local lock stamp=$opt/node_modules/.earshot-lock-sha256
  lock=$(sha256sum "$src/package-lock.json" | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$lock" ]]; then
    say "dependencies match package-lock.json: npm ci skipped"
    return
  fi
  say "installing npm dependencies (production only)"
  # No install scripts: onnxruntime-node's would try to download GPU libraries, and no
  # other package gets to run code as root. The two native modules that must be compiled
  # for this board are rebuilt explicitly below.
  retry run_in "$opt" env ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --ignore-scripts \
    --no-audit --no-fund || die "npm ci failed in $opt"
  # epoll: GPIO edge events for onoff; spi-device: APA102 LEDs on SPI; speaker: optional
  # direct playback. All optional: without them GPIO runs simulated (and says so), SPI
  # LEDs stay dark (and say so) and playback goes through aplay.
  if ! run_in "$opt" npm rebuild epoll spi-device speaker --foreground-scripts; then
    warn "building epoll/spi-device/speaker failed: GPIO or SPI LEDs will run simulated, playback via aplay"
  fi
  printf '%s\n' "$lock" | write_file "$stamp" 0644
}

install_unit() {
  local node_path
  say "installing $unit_dir/$unit"
  run install -d -m 0755 "$unit_dir"
  run install -m 0644 "$src/systemd/$unit" "$unit_dir/$unit"
  # The unit runs /usr/bin/node (Debian, NodeSource). A Node.js elsewhere on PATH (the
  # official tarball in /usr/local) gets a drop-in that points ExecStart at it.
  node_path=$(command -v node 2>/dev/null || true)
  if ((!root_mode)) && [[ -n $node_path && $node_path != /usr/bin/node ]]; then
    # The unit's own command line (its node flags included), with the other node.
    local exec_args
    exec_args=$(sed -n 's|^ExecStart=/usr/bin/node ||p' "$src/systemd/$unit")
    run install -d -m 0755 "$unit_dir/$unit.d"
    write_file "$unit_dir/$unit.d/10-node.conf" 0644 <<EOF
# Written by install.sh: Node.js is not /usr/bin/node on this system.
[Service]
ExecStart=
ExecStart=$node_path $exec_args
EOF
  else
    run rm -f "$unit_dir/$unit.d/10-node.conf"
  fi
  if ((root_mode)); then
    # Exactly what `systemctl enable` creates for WantedBy=multi-user.target.
    run install -d -m 0755 "$(dirname "$wants")"
    run ln -sfn "/etc/systemd/system/$unit" "$wants"
    skip "systemctl daemon-reload; systemctl start $unit"
    return
  fi
  run systemctl daemon-reload
  run systemctl enable "$unit"
  if ((start)); then
    # restart, not start: a re-run is an upgrade, and the new code must be loaded.
    say "starting $unit"
    run systemctl restart "$unit" ||
      die "$unit did not start; see: journalctl -u earshot -b --no-pager | tail -50"
  fi
}

if ((first_boot)) && [[ ! -f $src/.earshot-bundle ]]; then
  die "--first-boot runs only from a bundle made by build-image.sh ($src has no .earshot-bundle)"
fi

if ((uninstall)); then
  uninstall
  exit 0
fi

[[ -f $src/dist/cli/main.js ]] ||
  die "$src/dist/cli/main.js is missing: build the source tree first (npm ci && npm run build)"
for f in package.json package-lock.json "systemd/$unit" hardware models scripts/config.template.yaml; do
  [[ -e $src/$f ]] || die "$src/$f is missing: not an earshot source tree or bundle"
done
if [[ -n $config ]]; then
  config_src=$config
elif [[ -f $src/config.yaml ]]; then
  config_src=$src/config.yaml
else
  config_src=$src/scripts/config.template.yaml
fi
[[ -f $config_src || -e $etc/config.yaml ]] || die "config $config_src not found"

say "installing earshot from $src into ${root:-/}$( ((dry_run)) && echo ' (dry run)')"
if ((root_mode)); then
  skip "system packages (apt-get)"
elif ((packages)); then
  install_packages
fi
create_user
install_config
install_dashboard_cert
install_runtime
link_cli
install_board
if ((npm)); then install_dependencies; else say "npm dependencies skipped (--no-npm)"; fi
install_unit
if ((first_boot)); then
  say "install complete: removing the bundle $src"
  run rm -rf "$src"
fi
say "done"
