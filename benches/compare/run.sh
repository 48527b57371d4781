#!/usr/bin/env bash
# Runs a comparison script of this folder in a virtual environment made from
# requirements.txt (created on first use): benches/compare/run.sh scipy_signal
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
script="$1"; shift
exec "$venv/bin/python" "$here/$script.py" "$@"
