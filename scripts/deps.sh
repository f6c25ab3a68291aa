#!/usr/bin/env bash
# What the benchmarks need beyond Go: Debian's ffmpeg (video) and tesseract (recognizer), installed when
# missing, and a Python virtual environment .venv/ made from requirements.txt with the system interpreter
# (rebuilt when requirements.txt changes). Messages go to stderr; stdout carries only the export line, so
#
#   eval "$(scripts/deps.sh)"
#
# points workers at the environment (FAASFLOW_PYTHON). Idempotent: a second run takes a fraction of a second.
set -euo pipefail
SERVICE=deps
# shellcheck source=scripts/services/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/services/lib.sh"
cd "$(dirname "$0")/.."

# Command each package provides, to tell a missing one without asking dpkg for every run.
declare -A provides=([ffmpeg]=ffprobe [tesseract-ocr]=tesseract [tesseract-ocr-eng]=)
missing=()
for pkg in "${!provides[@]}"; do
  cmd="${provides[$pkg]}"
  if [ -n "$cmd" ] && command -v "$cmd" >/dev/null; then continue; fi
  missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"

python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
[ -n "$python" ] || die "no python3: install Debian's python3 (apt-get install python3 python3-venv)"
venv="$PWD/.venv"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  t0=$(now_ms)
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    apt_install python3-venv
    "$python" -m venv "$venv" >&2
  fi
  say "installing requirements.txt into .venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r requirements.txt >&2 ||
    die "pip could not install requirements.txt into .venv (see above)"
  echo "$want" >"$venv/.requirements.sha256"
  say "ready in $(elapsed "$t0")"
fi
echo "export FAASFLOW_PYTHON=$venv/bin/python"
