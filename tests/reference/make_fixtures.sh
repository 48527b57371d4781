#!/usr/bin/env bash
# Rebuilds tests/fixtures/signal from SciPy and tests/fixtures/parquet from pyarrow: makes
# tests/reference/.venv from the pinned requirements (again when they change), then runs
# make_fixtures.py and make_parquet_fixtures.py. The fixtures are committed, so
# `cargo test` never needs Python; run this only to regenerate them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$wanted" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
  echo "$wanted" > "$venv/.requirements"
fi
"$venv/bin/python" "$here/make_fixtures.py" "$here/../fixtures/signal"
"$venv/bin/python" "$here/make_parquet_fixtures.py" "$here/../fixtures/parquet"
