#!/usr/bin/env bash
# Robustness sweep: palpa on freshly simulated sets from both simulator models,
# scored by `palpa evaluate`, one factor at a time from the default (motion-artefact scale,
# resting sEMG noise, ECG amplitude, mains SNR), then isolation runs without LTRs that count
# what each artefact class alone makes palpa report. Markdown tables on stdout.
#   SUBJECTS=4 benches/validation.sh [SEED]   # a quick run; the default is 24 subjects
# NK=1 adds NeuroKit2's emg_activation on the default basic set (about 6 more minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-20261121}"
subjects="${SUBJECTS:-24}"
# PALPA_BIN: a fixed binary, so that a rebuild during the run cannot change it midway.
if [ -z "${PALPA_BIN:-}" ]; then
  cargo build --release --quiet
fi
palpa="${PALPA_BIN:-target/release/palpa}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# simulate + run + evaluate; prints the evaluate JSON.
scored() {
  local dir="$work/set"
  rm -rf "$dir" "$dir-out"
  "$palpa" -q simulate -o "$dir" --seed "$seed" --subjects "$subjects" "$@"
  "$palpa" -q run "$dir" -o "$dir-out" --no-plots
  "$palpa" evaluate "$dir-out" --json
}

row() { # model factor value [simulate flags…]
  local model="$1" factor="$2" value="$3"
  shift 3
  scored --model "$model" "$@" | python3 -c '
import json, sys
s = json.load(sys.stdin)
def f(v, d=3):
    if v == "not measured": return "n/m"
    return "-" if v is None else (str(v) if isinstance(v, int) else f"{v:.{d}f}")
ltr, band = s["ltr"], s["taut_band"]
cells = sys.argv[1:4] + [f(ltr["precision"]), f(ltr["recall"]), f(ltr["f1"]),
         f(s["ltr_emg_onset_error_median_ms"], 1), f(s["ltr_force_onset_error_median_ms"], 1),
         f(s["technique_accuracy"]), f(band["f1"]), f(s["withdrawal_accuracy"]),
         f(s["mains_false_notches"]), f(s["mains_missed_notches"])]
print("| " + " | ".join(cells) + " |")
' "$model" "$factor" "$value"
}

echo "## Detection against one factor at a time (seed $seed, $subjects subjects, $((2 * subjects)) recordings per row)"
echo
echo "Defaults: motion artefacts 1× (physio), resting noise and ECG drawn from the config, mains drawn. n/m: not measured (the run lacks the columns)."
echo
echo "| model | factor | value | LTR precision | LTR recall | LTR F1 | sEMG onset error ms | force onset error ms | technique accuracy | taut-band F1 | withdrawal accuracy | notched without line | line ≥ 10 dB missed |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for model in basic physio; do
  row "$model" default -
  if [ "$model" = physio ]; then
    for x in 0 2 4; do row "$model" "motion artefacts" "${x}×" --artifact-scale "$x"; done
  fi
  for x in 2 5 10 20; do row "$model" "resting noise" "$x µV" --noise-uv "$x"; done
  for x in 0 25 50 100; do row "$model" "ECG R wave" "$x µV" --ecg-uv "$x"; done
  row "$model" mains none --no-mains
  for x in -10 0 10 20 30; do row "$model" "mains SNR" "$x dB" --mains-snr-db "$x"; done
done

echo
echo "## Isolation: no LTRs simulated, one artefact class alone in every recording"
echo
echo "| model | artefacts | LTRs detected (all false) | recordings |"
echo "|---|---|---|---|"
iso() { # model label [flags…]
  local model="$1" label="$2"
  shift 2
  scored --model "$model" --no-ltrs "$@" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("| " + " | ".join([sys.argv[1], sys.argv[2], str(s["ltr"]["detected"]), sys.argv[3]]) + " |")
' "$model" "$label" "$((2 * subjects))"
}
iso basic "none (the basic model has none)"
iso physio none --artifacts none
iso physio "motion alone" --artifacts motion
iso physio "tonic unit alone" --artifacts tonic
iso physio "cable spikes alone" --artifacts spikes
iso physio "all (default shares)"

if [ "${NK:-0}" = 1 ]; then
  echo
  echo "## NeuroKit2 on the default basic set"
  "$palpa" -q simulate -o "$work/nk" --seed "$seed" --subjects "$subjects"
  "$palpa" -q run "$work/nk" -o "$work/nk-out" --format both --no-plots
  benches/compare/run.sh nk_detect "$work/nk" "$work/nk-out"
fi
