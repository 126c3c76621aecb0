#!/usr/bin/env bash
# Builds a Raspberry Pi OS card image whose first boot installs and starts earshot.
#
#   scripts/build-image.sh IN.img|IN.img.xz OUT.img [options]
#
#   --config FILE            earshot config to start from (default: scripts/config.template.yaml)
#   --hostname NAME          host name (and device.id, unless the config sets its own)
#   --wifi-ssid SSID         Wi-Fi network; needs --wifi-password-file and --wifi-country
#   --wifi-password-file F   file holding the Wi-Fi passphrase (never a command-line argument)
#   --wifi-country CC        two-letter regulatory domain, e.g. GB, DE, US
#   --ssh-key FILE           public key(s) allowed to log in as --user over SSH
#   --user NAME              login user (default: pi when --ssh-key is given)
#   --cloud-url URL          cloud.url (wss://...)
#   --device-cert FILE --device-key FILE   client certificate for mutual TLS
#   --ca FILE                pinned CA of the cloud
#   --board NAME             board profile (generic, respeaker-2mic, ...)
#   --wake-word NAME         wake word (an openWakeWord model name such as alexa, hey_jarvis)
#   --bundle DIR             built earshot tree to ship (default: this repository; needs dist/)
#   --force                  replace OUT if it exists
#
# IN is a Raspberry Pi OS Trixie (or newer) image, which configures itself on the first
# boot with cloud-init from three files on its FAT boot partition: user-data,
# network-config and meta-data. This script rewrites those, appends the Wi-Fi
# regulatory domain to cmdline.txt, and copies the earshot bundle (dist/, package files,
# systemd/, hardware/, models/, scripts/install.sh, the config, the certificates) to earshot/ on
# the same partition (/boot/firmware/earshot/ on the Pi). On the first boot cloud-init's
# runcmd runs install.sh --first-boot from there: it installs Node.js and the runtime,
# copies the config and certificates to /etc/earshot, removes them from the boot
# partition, and starts the service. The first boot needs network access (apt, npm).
#
# No root and no loop devices: the boot partition's byte offset comes from the partition
# table (sfdisk) and mtools writes into the image file directly. IN is only read; OUT is
# built under a temporary name and appears only when everything worked.
#
# Secrets: the Wi-Fi passphrase is read from a file and stored in the image only as the
# WPA PSK derived from it (as Raspberry Pi Imager does); the device key goes into the
# bundle. Neither is ever printed. The boot partition is FAT, readable by anyone holding
# the card, until the first boot has moved the bundle's secrets to /etc/earshot.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# sfdisk lives in /usr/sbin, which is not on an ordinary user's PATH on Debian.
PATH=$PATH:/usr/sbin:/sbin
# Raspberry Pi images' FAT geometry does not pass mtools' sanity check; ignore any
# personal ~/.mtoolsrc so the result does not depend on who runs this.
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  printf 'build-image: error: %s\n' "$*" >&2
  exit 1
}
say() { printf 'build-image: %s\n' "$*"; }

in="" out="" config="" hostname="" ssid="" password_file="" country="" ssh_key="" login=""
cloud_url="" cert="" key="" ca="" board="" wake_word="" bundle="" force=0
positional=()
while (($# > 0)); do
  case "$1" in
    --force)
      force=1
      shift
      ;;
    -h | --help) usage ;;
    --config | --hostname | --wifi-ssid | --wifi-password-file | --wifi-country | --ssh-key | \
      --user | --cloud-url | --device-cert | --device-key | --ca | --board | --wake-word | --bundle)
      (($# >= 2)) || die "$1 needs a value"
      case "$1" in
        --config) config=$2 ;;
        --hostname) hostname=$2 ;;
        --wifi-ssid) ssid=$2 ;;
        --wifi-password-file) password_file=$2 ;;
        --wifi-country) country=${2^^} ;;
        --ssh-key) ssh_key=$2 ;;
        --user) login=$2 ;;
        --cloud-url) cloud_url=$2 ;;
        --device-cert) cert=$2 ;;
        --device-key) key=$2 ;;
        --ca) ca=$2 ;;
        --board) board=$2 ;;
        --wake-word) wake_word=$2 ;;
        --bundle) bundle=$2 ;;
      esac
      shift 2
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      positional+=("$1")
      shift
      ;;
  esac
done
((${#positional[@]} == 2)) || usage
in=${positional[0]} out=${positional[1]}

# --- Check everything before writing anything. ---
missing=()
for tool in sfdisk mcopy mtype mdir mmd mdeltree node sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[[ $in != *.xz ]] || command -v xz >/dev/null 2>&1 || missing+=(xz)
((${#missing[@]} == 0)) ||
  die "missing required tools: ${missing[*]} (Debian packages: mtools, fdisk, xz-utils, nodejs)"

[[ -f $in && -r $in ]] || die "$in: no such file"
[[ $out != *.xz ]] || die "$out: OUT is written uncompressed (xz it afterwards if you like)"
out_dir=$(dirname "$out")
[[ -d $out_dir && -w $out_dir ]] || die "$out_dir: output directory missing or not writable"
if [[ -e $out ]]; then
  [[ $(realpath "$in") != "$(realpath "$out")" ]] || die "OUT must not be IN"
  ((force)) || die "$out exists (--force replaces it)"
fi

readable() { [[ -f $1 && -r $1 ]] || die "$2 $1: no such file"; }
[[ -z $config ]] || readable "$config" --config
[[ -z $ssh_key ]] || readable "$ssh_key" --ssh-key
[[ -z $cert ]] || readable "$cert" --device-cert
[[ -z $key ]] || readable "$key" --device-key
[[ -z $ca ]] || readable "$ca" --ca
[[ -n $cert && -n $key || -z $cert && -z $key ]] || die "--device-cert and --device-key go together"
if [[ -n $hostname && ! $hostname =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]]; then
  die "--hostname $hostname: letters, digits and inner hyphens, at most 63 characters"
fi
[[ -z $login || $login =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--user $login: not a valid user name"
[[ -z $country || $country =~ ^[A-Z]{2}$ ]] || die "--wifi-country $country: a two-letter country code"
[[ -z $wake_word || $wake_word =~ ^[a-z0-9_]{1,64}$ ]] || die "--wake-word: lower-case letters, digits, _"
[[ -z $board || $board =~ ^[A-Za-z0-9_./-]+$ ]] || die "--board $board: not a profile name or path"
if [[ -n $ssid || -n $password_file ]]; then
  [[ -n $ssid && -n $password_file ]] || die "--wifi-ssid and --wifi-password-file go together"
  readable "$password_file" --wifi-password-file
  [[ -n $country ]] || die "--wifi-ssid needs --wifi-country: the radio stays off without one"
  ssid_bytes=$(printf '%s' "$ssid" | wc -c)
  ((ssid_bytes <= 32)) || die "--wifi-ssid: at most 32 bytes"
  [[ ! $ssid =~ [[:cntrl:]] ]] || die "--wifi-ssid: control characters are not allowed"
  # The WPA PSK, PBKDF2-HMAC-SHA1(passphrase, SSID, 4096, 32): the passphrase itself never
  # reaches the image. A 64-digit hex "passphrase" is taken as a PSK already.
  psk=$(node -e '
    const fs = require("fs"), crypto = require("crypto");
    const [file, ssid] = process.argv.slice(1);
    const pw = fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
    if (/^[0-9a-fA-F]{64}$/.test(pw)) { process.stdout.write(pw.toLowerCase()); process.exit(0); }
    if (pw.length < 8 || pw.length > 63 || /[^\x20-\x7e]/.test(pw)) process.exit(3);
    process.stdout.write(crypto.pbkdf2Sync(pw, ssid, 4096, 32, "sha1").toString("hex"));
  ' "$password_file" "$ssid") ||
    die "--wifi-password-file: the passphrase must be 8 to 63 printable ASCII characters"
fi
[[ -n $login || -z $ssh_key ]] || login=pi
[[ -z $login || -n $ssh_key ]] ||
  say "note: --user without --ssh-key: $login gets no password and no key, so cannot log in"

bundle=${bundle:-$repo}
[[ -f $bundle/dist/cli/main.js ]] || die "$bundle/dist/cli/main.js missing: run npm run build (or pass --bundle)"
for f in package.json package-lock.json systemd/earshot.service hardware models; do
  [[ -e $bundle/$f ]] || die "$bundle/$f missing: --bundle must be a built earshot tree"
done
scripts_dir=$bundle/scripts
[[ -f $scripts_dir/install.sh ]] || scripts_dir=$here

# --- Work area; OUT appears only at the very end. ---
umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/earshot-image.XXXXXX")
partial="$out_dir/.$(basename "$out").partial.$$"
done_ok=0
cleanup() {
  rm -rf "$work"
  ((done_ok)) || rm -f "$partial"
}
trap cleanup EXIT

say "copying $in"
if [[ $in == *.xz ]]; then
  xz -dc -- "$in" >"$partial" || die "$in: not a valid .xz file"
else
  cp --sparse=always -- "$in" "$partial"
fi
# The image holds the device's private key, the Wi-Fi password and the cloud token:
# readable by its owner only, like any other file of secrets.
chmod 0600 "$partial"

# --- Find the FAT boot partition. ---
table=$(sfdisk -d "$partial" 2>/dev/null) || die "$in: not a disk image (no partition table)"
sector=$(sed -n 's/^sector-size: *\([0-9]*\)$/\1/p' <<<"$table")
sector=${sector:-512}
boot_start="" boot_size="" boot_n=0 n=0
while read -r start size type; do
  n=$((n + 1))
  case "${type,,}" in
    # MBR: FAT12/16/32 (CHS and LBA); GPT: Microsoft basic data, EFI system partition.
    1 | 4 | 6 | b | c | e | ef | ebd0a0a2-b9e5-4433-87c0-68b6b72699c7 | c12a7328-f81f-11d2-ba4b-00a0c93ec93b)
      boot_start=$start boot_size=$size boot_n=$n
      break
      ;;
  esac
done < <(sed -n 's/^.* : start= *\([0-9]*\), size= *\([0-9]*\), type=\([^, ]*\).*$/\1 \2 \3/p' <<<"$table")
[[ -n $boot_start ]] || die "$in: no FAT boot partition (a Raspberry Pi OS image has one, type c)"
offset=$((boot_start * sector))
fat="$partial@@$offset"
mdir -i "$fat" ::/ >/dev/null 2>&1 || die "$in: partition $boot_n is not a readable FAT file system"
mtype -i "$fat" ::/cmdline.txt >"$work/cmdline.txt" 2>/dev/null ||
  die "$in: the boot partition has no cmdline.txt: not a Raspberry Pi OS image"
mtype -i "$fat" ::/meta-data >/dev/null 2>&1 ||
  die "$in: no cloud-init seed (meta-data) on the boot partition: use Raspberry Pi OS Trixie or newer"
say "boot partition: #$boot_n at byte $offset, $((boot_size * sector / 1048576)) MiB"

# --- The earshot bundle. ---
stage=$work/earshot
mkdir -p "$stage/scripts"
cp -R "$bundle/dist" "$bundle/hardware" "$bundle/systemd" "$bundle/models" "$stage/"
cp "$bundle/package.json" "$bundle/package-lock.json" "$stage/"
cp "$scripts_dir/install.sh" "$scripts_dir/config.template.yaml" "$stage/scripts/"
[[ ! -f $scripts_dir/make-certs.sh ]] || cp "$scripts_dir/make-certs.sh" "$stage/scripts/"
printf 'earshot bundle written by build-image.sh on %s\n' "$(date -u +%FT%TZ)" >"$stage/.earshot-bundle"
if [[ -n $cert || -n $ca ]]; then
  mkdir -p "$stage/tls"
  [[ -z $cert ]] || cp "$cert" "$stage/tls/device.crt"
  [[ -z $key ]] || cp "$key" "$stage/tls/device.key"
  [[ -z $ca ]] || cp "$ca" "$stage/tls/ca.crt"
fi

# The config: the maker's file (or the template) with the flags applied, comments kept.
# shellcheck disable=SC2016 # JavaScript in single quotes: the ${...} are its own.
node -e '
  const fs = require("fs");
  const [repo, from, to, board, wakeWord, cloudUrl, cert, key, ca, hostname] = process.argv.slice(1);
  let YAML;
  try { YAML = require("module").createRequire(repo + "/package.json")("yaml"); }
  catch { console.error("build-image: error: the yaml package is missing: run npm ci"); process.exit(1); }
  const s = { board, wakeWord, cloudUrl, cert, key, ca, hostname };
  const doc = YAML.parseDocument(fs.readFileSync(from, "utf8"));
  if (doc.errors.length) { console.error(`build-image: error: ${from}: ${doc.errors[0].message}`); process.exit(1); }
  const set = (path, v) => { if (v) doc.setIn(path, doc.createNode(v)); };
  set(["board"], s.board);
  if (s.wakeWord && doc.getIn(["wake", "engine"]) === "porcupine") set(["wake", "porcupine", "keywords"], [s.wakeWord]);
  else if (s.wakeWord) set(["wake", "keywords"], [{ name: s.wakeWord, model: s.wakeWord }]);
  set(["cloud", "url"], s.cloudUrl);
  set(["cloud", "cert"], s.cert);
  set(["cloud", "key"], s.key);
  set(["cloud", "ca"], s.ca);
  // A fleet should not share the default id; the host name is a good one, unless the config picked its own.
  const id = doc.getIn(["device", "id"]);
  if (s.hostname && (id === undefined || id === "earshot")) set(["device", "id"], s.hostname);
  fs.writeFileSync(to, String(doc));
' "$repo" "${config:-$scripts_dir/config.template.yaml}" "$stage/config.yaml" "$board" "$wake_word" \
  "$cloud_url" "${cert:+/etc/earshot/tls/device.crt}" "${key:+/etc/earshot/tls/device.key}" \
  "${ca:+/etc/earshot/tls/ca.crt}" "${hostname,,}"
if ! check=$(node "$bundle/dist/cli/main.js" config check "$stage/config.yaml" 2>&1); then
  die "the resulting config is not valid:
${check//$stage\/config.yaml/config}"
fi

# --- The board's config.txt lines (overlays, SPI, pulls), so the first boot has its
# sound card and LEDs. Only when a board or config was chosen: a stock build keeps the
# stock config.txt (install.sh adds the generic board's lines on the Pi). The ALSA
# default is installed by install.sh --first-boot (it lives on the root partition). ---
seed_board=()
if [[ -n $board || -n $config ]]; then
  cli=(node "$bundle/dist/cli/main.js")
  mtype -i "$fat" ::/config.txt >"$work/config.txt.old" 2>/dev/null || : >"$work/config.txt.old"
  "${cli[@]}" board config-txt "$work/config.txt.old" -c "$stage/config.yaml" >"$work/config.txt" ||
    die "cannot work out the board's config.txt lines"
  if ! cmp -s "$work/config.txt.old" "$work/config.txt"; then
    seed_board+=("$work/config.txt")
    say "adding the board's lines to config.txt:"
    "${cli[@]}" board block -c "$stage/config.yaml" | sed -n '3,$p' | sed '$d' | sed 's/^/build-image:     /'
  fi
  overlay=$("${cli[@]}" board show -c "$stage/config.yaml" | sed -n 's/^overlay not shipped with Raspberry Pi OS: //p')
  if [[ -n $overlay ]] && ! mdir -i "$fat" "::/overlays/$overlay" >/dev/null 2>&1; then
    say "note: the image has no overlays/$overlay, which this board needs:"
    say "  $("${cli[@]}" board show -c "$stage/config.yaml" | tail -n 1 | sed 's/^ *//')"
  fi
fi

# --- cloud-init seed. Strings are written as YAML double-quoted scalars. ---
q() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}
{
  echo '#cloud-config'
  echo "# Written by earshot's scripts/build-image.sh. cloud-init applies this on the first"
  echo '# boot, then runs the earshot installer from the boot partition (runcmd).'
  if [[ -n $hostname ]]; then
    echo "hostname: $(q "$hostname")"
    echo 'manage_etc_hosts: true'
  fi
  if [[ -n $login ]]; then
    echo 'users:'
    echo "  - name: $(q "$login")"
    echo '    groups: users,adm,dialout,audio,netdev,video,plugdev,input,gpio,spi,i2c,render,sudo'
    echo '    shell: /bin/bash'
    echo '    lock_passwd: true'
    echo '    sudo: "ALL=(ALL) NOPASSWD:ALL"'
    if [[ -n $ssh_key ]]; then
      echo '    ssh_authorized_keys:'
      while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        [[ -n $line && $line != \#* ]] || continue
        [[ $line =~ ^(ssh-|ecdsa-|sk-) && ! $line =~ [[:cntrl:]] ]] ||
          die "--ssh-key $ssh_key: not an OpenSSH public key line"
        echo "      - $(q "$line")"
      done <"$ssh_key"
    fi
  fi
  if [[ -n $ssh_key ]]; then
    echo 'enable_ssh: true'
    echo 'ssh_pwauth: false'
  fi
  echo 'runcmd:'
  [[ -z $country ]] || echo '  - [rfkill, unblock, wifi]'
  [[ -z $ssh_key ]] || echo '  - [systemctl, enable, --now, ssh]'
  echo '  - [bash, /boot/firmware/earshot/scripts/install.sh, --first-boot]'
} >"$work/user-data"

{
  echo "# Written by earshot's scripts/build-image.sh. A new instance-id makes cloud-init"
  echo '# treat this card as a new machine and apply user-data and network-config once.'
  echo "instance-id: earshot-$(date -u +%Y%m%d%H%M%S)-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  echo 'dsmode: local'
  [[ -z $hostname ]] || echo "local-hostname: $(q "$hostname")"
} >"$work/meta-data"

seed=("$work/user-data" "$work/meta-data" "${seed_board[@]}")
if [[ -n $ssid ]]; then
  cat >"$work/network-config" <<EOF
# Written by earshot's scripts/build-image.sh: netplan v2, applied by cloud-init on the
# first boot. The Wi-Fi password is stored as its WPA PSK, not as the passphrase.
network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
      optional: true
  wifis:
    wlan0:
      dhcp4: true
      optional: true
      regulatory-domain: $(q "$country")
      access-points:
        $(q "$ssid"):
          password: $(q "$psk")
EOF
  seed+=("$work/network-config")
fi
if [[ -n $country ]]; then
  # Raspberry Pi OS keeps Wi-Fi blocked until a regulatory domain is set; Imager sets it
  # on the kernel command line too. cmdline.txt must stay a single line.
  line=$(head -n 1 "$work/cmdline.txt" | tr -d '\r')
  line=$(sed -E 's/(^| )cfg80211\.ieee80211_regdom=[^ ]*//g; s/ +$//' <<<"$line")
  printf '%s cfg80211.ieee80211_regdom=%s\n' "$line" "$country" >"$work/cmdline.txt"
  seed+=("$work/cmdline.txt")
fi

# --- Write into the boot partition. Any mtools failure (a full partition) is fatal. ---
free_space() { mdir -i "$fat" ::/ 2>/dev/null | sed -n 's/^ *\([0-9 ]*\) bytes free$/\1/p' | tr -d ' '; }
copy_failed() {
  if grep -qi 'disk full' "$work/mcopy.err"; then
    die "the boot partition is full: earshot needs about $(du -sk "$stage" | cut -f1) KiB there \
and $((free_before / 1024)) KiB are free. Remove files from it or start from a larger image."
  fi
  die "writing to the boot partition failed: $(head -n 3 "$work/mcopy.err")"
}
say "writing the earshot bundle and the cloud-init seed"
if mdir -i "$fat" ::/earshot >/dev/null 2>&1; then mdeltree -i "$fat" ::/earshot >/dev/null; fi
free_before=$(free_space)
mcopy -s -o -Q -i "$fat" "$stage" ::/ 2>"$work/mcopy.err" || copy_failed
mcopy -o -Q -i "$fat" "${seed[@]}" ::/ 2>"$work/mcopy.err" || copy_failed
for f in "${seed[@]}"; do
  mtype -i "$fat" "::/$(basename "$f")" | cmp -s - "$f" || die "read-back of $(basename "$f") differs"
done

mv -f "$partial" "$out"
done_ok=1
say "wrote $out"
say "  hostname: ${hostname:-(unchanged)}, login: ${login:-(none)}${ssh_key:+ (ssh key)}"
say "  wi-fi: ${ssid:-(unchanged)}${country:+ ($country)}, cloud: ${cloud_url:-(from config)}"
say "  first boot installs earshot from /boot/firmware/earshot (needs network); follow it with:"
say "    journalctl -u cloud-final -f   then   systemctl status earshot"
