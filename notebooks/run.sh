#!/usr/bin/env bash
# Executes every notebook headless (nbconvert --execute) in a fresh virtual environment made
# from notebooks/requirements.txt, against the debug build cargo test already made; a failing
# cell fails the script. Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
target="${CARGO_TARGET_DIR:-target}"
PALPA_BIN="$(cd "$target" && pwd)/debug/palpa"
export PALPA_BIN
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install --quiet --disable-pip-version-check -r notebooks/requirements.txt
for notebook in notebooks/*.ipynb; do
  echo "notebooks: $notebook"
  "$scratch/venv/bin/jupyter" nbconvert --log-level=WARN --to notebook --execute \
    --ExecutePreprocessor.timeout=1200 --output-dir "$scratch/executed" "$notebook"
done
echo "notebooks: all executed"
