#!/usr/bin/env bash
# Detection validation (issue [3/7]): palpa on freshly simulated sets, scored by
# `palpa evaluate`, then a sweep over resting noise, ECG and mains, then NeuroKit2's
# emg_activation on the default set (set NK=0 to skip it; it takes ~6 minutes).
#   benches/validation.sh [SEED] [SUBJECTS]
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-20261121}"
subjects="${2:-24}"
# PALPA_BIN: a fixed binary, so that a rebuild during the run cannot change it midway.
if [ -z "${PALPA_BIN:-}" ]; then
  cargo build --release --quiet
fi
palpa="${PALPA_BIN:-target/release/palpa}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "## Default noise: seed $seed, $subjects subjects ($((2 * subjects)) recordings)"
$palpa simulate -o "$work/default" --seed "$seed" --subjects "$subjects" 2>/dev/null
$palpa run "$work/default" -o "$work/default-out" --format both
$palpa evaluate "$work/default-out"

echo
echo "## Sweep (same seed and subjects)"
echo
echo "| resting noise µV | ECG | mains | LTR precision | LTR recall | LTR F1 | LTR onset error ms | taut-band F1 | technique accuracy |"
echo "|---|---|---|---|---|---|---|---|---|"
for noise in 2 5 10 20; do
  for ecg in on off; do
    for mains in on off; do
      flags=(--noise-uv "$noise")
      [ "$ecg" = off ] && flags+=(--no-ecg)
      [ "$mains" = off ] && flags+=(--no-mains)
      dir="$work/sweep-$noise-$ecg-$mains"
      $palpa simulate -o "$dir" --seed "$seed" --subjects "$subjects" "${flags[@]}" 2>/dev/null
      $palpa run "$dir" -o "$dir-out"
      $palpa evaluate "$dir-out" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
f = lambda v, d=3: "-" if v is None else f"{v:.{d}f}"
ltr, band = s["ltr"], s["taut_band"]
cells = sys.argv[1:4] + [f(ltr["precision"]), f(ltr["recall"]), f(ltr["f1"]),
         f(s["ltr_onset_error_median_ms"], 1), f(band["f1"]), f(s["technique_accuracy"])]
print("| " + " | ".join(cells) + " |")
' "$noise" "$ecg" "$mains"
      rm -rf "$dir" "$dir-out"
    done
  done
done

if [ "${NK:-1}" = 1 ]; then
  echo
  echo "## NeuroKit2 on the default set"
  benches/compare/run.sh nk_detect "$work/default" "$work/default-out"
fi
