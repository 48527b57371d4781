#!/usr/bin/env bash
# The benchmark of record in one command, in a Python virtual environment made from
# requirements.txt under target/bench-venv (made again whenever the requirements change):
#   benches/compare/run.sh [bench.py options]        # palpa against SciPy and NeuroKit2
#   benches/compare/run.sh --compare OLD_BIN NEW_BIN # one palpa binary against another
#   benches/compare/run.sh nk_detect DATASET PALPA_OUT   # another script of this folder
# PALPA_BIN (or --palpa) names the binary timed; without it, bench.py builds target/release/palpa.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${CARGO_TARGET_DIR:-$root/target}/bench-venv"
wanted="$(cat "$here/requirements.txt" "$root/tests/reference/requirements.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$wanted" ]; then
  echo "run.sh: making $venv from requirements.txt" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  (cd "$here" && "$venv/bin/pip" install --quiet -r requirements.txt)
  echo "$wanted" > "$venv/.requirements"
fi
script=bench
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ] && [ -f "$here/$1.py" ]; then
  script="$1"; shift
fi
exec "$venv/bin/python" "$here/$script.py" "$@"
