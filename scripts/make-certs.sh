#!/usr/bin/env bash
# Development certificates for the device <-> cloud link (mutual TLS).
#
#   scripts/make-certs.sh OUTDIR [--device-id ID] [--force]
#
# Writes into OUTDIR:
#   ca.crt / ca.key                   a development CA
#   server.crt / server.key           the reference cloud: localhost, 127.0.0.1 (subjectAltName)
#   device.crt / device.key           a device (client) certificate, CN = the device id
#   other-ca.crt / other-ca.key       a second, unrelated CA
#   other-device.crt / other-device.key  a device certificate signed by the other CA
#                                     (for tests that must see it refused)
#
# Idempotent: files that exist and still fit are kept; a missing or regenerated CA
# regenerates the certificates it signed; a device certificate for another id is
# replaced. --force starts over. Keys are EC P-256 (quick to make, cheap on a Pi
# Zero), written with mode 600. Key material is never printed.
set -euo pipefail

usage() {
  echo "usage: $0 OUTDIR [--device-id ID] [--force]" >&2
  exit 2
}

out=""
device_id="earshot"
force=0
while (($# > 0)); do
  case "$1" in
    --device-id)
      (($# >= 2)) || usage
      device_id="$2"
      shift 2
      ;;
    --force)
      force=1
      shift
      ;;
    -h | --help) usage ;;
    -*)
      echo "unknown option: $1" >&2
      usage
      ;;
    *)
      [[ -z "$out" ]] || usage
      out="$1"
      shift
      ;;
  esac
done
[[ -n "$out" ]] || usage
# The same rule as the config's device.id: the id goes into a subject and file names.
if [[ ! "$device_id" =~ ^[a-z0-9][a-z0-9_-]{0,62}$ ]]; then
  echo "invalid --device-id '$device_id' (lower-case letters, digits, - and _, 1-63 chars)" >&2
  exit 2
fi
command -v openssl >/dev/null || {
  echo "openssl not found (apt-get install openssl)" >&2
  exit 1
}

mkdir -p "$out"
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ((force)); then
  rm -f "$out"/{ca,server,device,other-ca,other-device}.{crt,key}
fi

# Everything openssl says goes to a log that is shown only on failure; it never
# contains key material (keys go to files only).
run_openssl() {
  if ! openssl "$@" >"$work/openssl.log" 2>&1; then
    echo "openssl $1 failed:" >&2
    cat "$work/openssl.log" >&2
    exit 1
  fi
}

have() { [[ -s "$out/$1.crt" && -s "$out/$1.key" ]]; }

# make_ca NAME SUBJECT
make_ca() {
  run_openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$out/$1.key" -out "$out/$1.crt" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
  chmod 644 "$out/$1.crt"
  echo "made $out/$1.crt (CA)"
}

# make_leaf NAME CA SUBJECT EXTENSIONS...
make_leaf() {
  local name="$1" ca="$2" subject="$3"
  shift 3
  printf '%s\n' "$@" >"$work/$name.ext"
  run_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$out/$name.key" -out "$work/$name.csr" -subj "$subject"
  run_openssl x509 -req -in "$work/$name.csr" -CA "$out/$ca.crt" -CAkey "$out/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
    -extfile "$work/$name.ext" -out "$out/$name.crt"
  chmod 644 "$out/$name.crt"
  echo "made $out/$name.crt (signed by $ca)"
}

# True when NAME.crt is signed by CA.crt and (optionally) has subject CN=EXPECTED.
fits() {
  local name="$1" ca="$2" cn="${3:-}"
  have "$name" || return 1
  openssl verify -CAfile "$out/$ca.crt" "$out/$name.crt" >/dev/null 2>&1 || return 1
  if [[ -n "$cn" ]]; then
    openssl x509 -in "$out/$name.crt" -noout -subject -nameopt RFC2253 2>/dev/null |
      grep -qx "subject=CN=$cn" || return 1
  fi
}

server_ext=(
  "basicConstraints=critical,CA:FALSE"
  "keyUsage=critical,digitalSignature"
  "extendedKeyUsage=serverAuth"
  "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
)
client_ext=(
  "basicConstraints=critical,CA:FALSE"
  "keyUsage=critical,digitalSignature"
  "extendedKeyUsage=clientAuth"
)

have ca || make_ca ca "/CN=earshot development CA"
have other-ca || make_ca other-ca "/CN=earshot other CA (not trusted)"
fits server ca || make_leaf server ca "/CN=localhost" "${server_ext[@]}"
fits device ca "$device_id" || make_leaf device ca "/CN=$device_id" "${client_ext[@]}"
fits other-device other-ca "$device_id" ||
  make_leaf other-device other-ca "/CN=$device_id" "${client_ext[@]}"

echo "certificates in $out (device id $device_id)"
