#!/usr/bin/env bash
# Certificates for the device <-> cloud link (mutual TLS): your own CA, a server
# certificate for the names and addresses the cloud is reached by, device certificates.
#
#   scripts/make-certs.sh OUTDIR [--name DNS]... [--ip ADDR]... [--device-id ID]
#                         [--device ID]... [--days N] [--force]
#   (also as `earshot certs OUTDIR ...`)
#
#   --name DNS     a host name in the server certificate (repeatable): cloud.home.arpa
#   --ip ADDR      an IP address in the server certificate (repeatable): 192.168.1.20
#                  Without --name and --ip: localhost, 127.0.0.1 and ::1 (development).
#   --device-id ID the device certificate device.crt (CN = ID; default earshot)
#   --device ID    one more device certificate, devices/ID.crt (repeatable: a fleet)
#   --days N       validity of server and device certificates (default 825; the CA: 3650)
#
# Writes into OUTDIR:
#   ca.crt / ca.key                   the CA (keep ca.key off the devices)
#   server.crt / server.key           the cloud; server.san records the names it is for
#   device.crt / device.key           a device (client) certificate, CN = the device id
#   devices/ID.crt / devices/ID.key   further devices (--device)
#   other-ca.crt / other-ca.key       a second, unrelated CA
#   other-device.crt / other-device.key  a device certificate signed by the other CA
#                                     (for tests that must see it refused)
#
# Idempotent: files that exist and still fit are kept; a missing or regenerated CA
# regenerates the certificates it signed; a device certificate for another id, and any
# certificate within 30 days of expiry, is replaced. --force starts over. Keys are
# EC P-256 (quick to make, cheap on a Pi Zero), written with mode 600. Key material is
# never printed.
set -euo pipefail

usage() {
  echo "usage: $0 OUTDIR [--name DNS]... [--ip ADDR]... [--device-id ID] [--device ID]... [--days N] [--force]" >&2
  exit 2
}
bad() {
  echo "$1" >&2
  exit 2
}

out=""
device_id="earshot"
force=0
days=825
names=()
ips=()
devices=()
id_rule='^[a-z0-9][a-z0-9_-]{0,62}$'
while (($# > 0)); do
  case "$1" in
    --device-id)
      (($# >= 2)) || usage
      device_id="$2"
      shift 2
      ;;
    --device)
      (($# >= 2)) || usage
      [[ $2 =~ $id_rule ]] || bad "invalid --device '$2' (lower-case letters, digits, - and _, 1-63 chars)"
      devices+=("$2")
      shift 2
      ;;
    --name)
      (($# >= 2)) || usage
      # A DNS name (a leading *. for a wildcard), as a certificate's subjectAltName holds it.
      [[ $2 =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$ && ${#2} -le 253 ]] ||
        bad "invalid --name '$2': a host name such as cloud.home.arpa"
      names+=("$2")
      shift 2
      ;;
    --ip)
      (($# >= 2)) || usage
      if [[ $2 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]]; then
        for octet in "${BASH_REMATCH[@]:1}"; do ((10#$octet <= 255)) || bad "invalid --ip '$2'"; done
      elif [[ ! $2 =~ ^[0-9A-Fa-f:]+$ || $2 != *:* ]]; then
        bad "invalid --ip '$2': an IPv4 or IPv6 address such as 192.168.1.20"
      fi
      ips+=("$2")
      shift 2
      ;;
    --days)
      (($# >= 2)) || usage
      if [[ ! $2 =~ ^[0-9]+$ ]] || ((10#$2 < 1 || 10#$2 > 3650)); then
        bad "invalid --days '$2' (1-3650)"
      fi
      days=$2
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
if [[ ! "$device_id" =~ $id_rule ]]; then
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
  rm -f "$out"/{ca,server,device,other-ca,other-device}.{crt,key} "$out/server.san"
  rm -rf "$out/devices"
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
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
    -extfile "$work/$name.ext" -out "$out/$name.crt"
  chmod 644 "$out/$name.crt"
  echo "made $out/$name.crt (signed by $ca)"
}

# True when NAME.crt is signed by CA.crt and (optionally) has subject CN=EXPECTED.
fits() {
  local name="$1" ca="$2" cn="${3:-}"
  have "$name" || return 1
  openssl verify -CAfile "$out/$ca.crt" "$out/$name.crt" >/dev/null 2>&1 || return 1
  # One that expires within 30 days (when earshot doctor starts warning) is renewed.
  openssl x509 -in "$out/$name.crt" -noout -checkend 2592000 >/dev/null 2>&1 || return 1
  if [[ -n "$cn" ]]; then
    openssl x509 -in "$out/$name.crt" -noout -subject -nameopt RFC2253 2>/dev/null |
      grep -qx "subject=CN=$cn" || return 1
  fi
}

san=()
for n in "${names[@]}"; do san+=("DNS:$n"); done
for a in "${ips[@]}"; do san+=("IP:$a"); done
((${#san[@]} > 0)) || san=("DNS:localhost" "IP:127.0.0.1" "IP:::1")
san_line=$(
  IFS=,
  echo "${san[*]}"
)
# The subject names the first name or address, for people reading the certificate.
server_cn=${names[0]:-${ips[0]:-localhost}}
server_ext=(
  "basicConstraints=critical,CA:FALSE"
  "keyUsage=critical,digitalSignature"
  "extendedKeyUsage=serverAuth"
  "subjectAltName=$san_line"
)
client_ext=(
  "basicConstraints=critical,CA:FALSE"
  "keyUsage=critical,digitalSignature"
  "extendedKeyUsage=clientAuth"
)

have ca || make_ca ca "/CN=earshot development CA"
have other-ca || make_ca other-ca "/CN=earshot other CA (not trusted)"
# The server certificate must be for exactly the names asked for now.
if ! fits server ca || [[ ! -f $out/server.san || $(cat "$out/server.san") != "$san_line" ]]; then
  make_leaf server ca "/CN=$server_cn" "${server_ext[@]}"
  printf '%s\n' "$san_line" >"$out/server.san"
  chmod 644 "$out/server.san"
fi
fits device ca "$device_id" || make_leaf device ca "/CN=$device_id" "${client_ext[@]}"
if ((${#devices[@]} > 0)); then
  mkdir -p "$out/devices" "$work/devices"
  for d in "${devices[@]}"; do
    fits "devices/$d" ca "$d" || make_leaf "devices/$d" ca "/CN=$d" "${client_ext[@]}"
  done
fi
fits other-device other-ca "$device_id" ||
  make_leaf other-device other-ca "/CN=$device_id" "${client_ext[@]}"

echo "certificates in $out (server: $san_line; device id $device_id${devices[*]:+; devices: ${devices[*]}})"
echo "valid until: CA $(openssl x509 -in "$out/ca.crt" -noout -enddate | cut -d= -f2), server $(openssl x509 -in "$out/server.crt" -noout -enddate | cut -d= -f2)"
