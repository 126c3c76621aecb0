#!/usr/bin/env bash
# Generates the project's own test audio, deterministically, with flite, espeak-ng
# and sox (Debian packages). Every clip is 16 kHz, 16-bit, mono WAV, padded with
# low-level pink noise (not digital silence: real microphones never deliver zeros,
# and detectors behave differently on exact zeros) with at least 2 s of lead-in, so a
# wake-word detector is past its warm-up before anything is said.
#
# Usage: scripts/make-fixtures.sh [OUTDIR]      (default: test/fixtures)
set -euo pipefail

out=${1:-"$(cd "$(dirname "$0")/.." && pwd)/test/fixtures"}
for tool in flite espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make-fixtures: $tool is not installed (apt-get install $tool)" >&2; exit 1; }
done
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# -R: sox's repeatable random numbers, so the noise is the same on every run;
# -D: no dither (dither is random too).
SOX=(sox -R -D -V1)

# speak ENGINE TEXT FILE: synthesize speech at 16 kHz mono 16-bit.
speak() {
  local engine=$1 text=$2 file=$3
  case $engine in
    flite) flite -voice slt -t "$text" -o "$work/raw.wav" ;;
    espeak) espeak-ng -v en-us -s 150 -w "$work/raw.wav" "$text" ;;
  esac
  "${SOX[@]}" "$work/raw.wav" -r 16000 -c 1 -b 16 "$file" norm -3
}

# silence SECONDS FILE: a stretch of (almost) nothing, to be filled by the noise bed.
silence() {
  "${SOX[@]}" -n -r 16000 -c 1 -b 16 "$2" trim 0 "$1"
}

# bed FILE OUT: mix low-level pink noise (about -60 dBFS) under a clip.
bed() {
  local len
  len=$(soxi -D "$1")
  "${SOX[@]}" -n -r 16000 -c 1 -b 16 "$work/noise.wav" synth "$len" pinknoise vol 0.002
  "${SOX[@]}" -m -v 1 "$1" -v 1 "$work/noise.wav" -b 16 "$2"
}

# clip OUT PART… : concatenate parts (speech files or "pause:SECONDS") over a noise bed.
clip() {
  local name=$1
  shift
  local parts=() i=0
  for part in "$@"; do
    i=$((i + 1))
    if [[ $part == pause:* ]]; then
      silence "${part#pause:}" "$work/p$i.wav"
      parts+=("$work/p$i.wav")
    else
      parts+=("$part")
    fi
  done
  "${SOX[@]}" "${parts[@]}" "$work/joined.wav"
  bed "$work/joined.wav" "$out/$name.wav"
}

speak flite "Alexa" "$work/alexa.wav"
speak flite "what time is it?" "$work/time.wav"
speak flite "turn on the kitchen light" "$work/light.wav"
speak flite "what's the weather like tomorrow, in Paris?" "$work/paris.wav"
speak espeak "The weather today is mild, with a light breeze from the west." "$work/weather.wav"
speak espeak "Computer, play some music." "$work/computer.wav"

# A request: wake word, a short pause, the question, then quiet.
clip alexa-what-time pause:2.0 "$work/alexa.wav" pause:0.3 "$work/time.wav" pause:2.0
# The same request starting later (room for a mute press before it).
clip alexa-late pause:4.0 "$work/alexa.wav" pause:0.3 "$work/time.wav" pause:2.0
# A request with a natural pause after the wake word (never the end of the request),
# then a question with a pause inside it.
clip alexa-pause-question pause:2.0 "$work/alexa.wav" pause:1.35 "$work/paris.wav" pause:2.5
# Two requests in a row.
clip alexa-twice pause:2.0 "$work/alexa.wav" pause:0.3 "$work/light.wav" pause:3.0 \
  "$work/alexa.wav" pause:0.3 "$work/time.wav" pause:2.0
# Speech without the wake word: must not wake anything.
clip no-wake pause:2.0 "$work/weather.wav" pause:0.5 "$work/computer.wav" pause:1.5
# Only the noise bed.
clip noise pause:4.0

echo "fixtures written to $out:"
for f in "$out"/*.wav; do printf "  %8d bytes  %s\n" "$(stat -c %s "$f")" "$f"; done
