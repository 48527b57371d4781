#!/usr/bin/env bash
# Runs a comparison script of this folder in a virtual environment made from
# requirements.txt (rebuilt whenever the requirements change):
#   benches/compare/run.sh scipy_signal
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
wanted="$(cat "$here/requirements.txt" "$here/../../tests/reference/requirements.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$wanted" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  (cd "$here" && "$venv/bin/pip" install --quiet -r requirements.txt)
  echo "$wanted" > "$venv/.requirements"
fi
script="$1"; shift
exec "$venv/bin/python" "$here/$script.py" "$@"
