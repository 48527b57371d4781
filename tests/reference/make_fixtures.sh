#!/usr/bin/env bash
# Rebuilds tests/fixtures/signal from SciPy: makes tests/reference/.venv from the pinned
# requirements if needed, then runs make_fixtures.py. The fixtures are committed, so
# `cargo test` never needs Python; run this only to regenerate them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
"$venv/bin/python" "$here/make_fixtures.py" "$here/../fixtures/signal"
