"""LTR detection: NeuroKit2's emg_activation against palpa, on the same simulated set.

Usage: benches/compare/run.sh nk_detect DATASET PALPA_OUT

DATASET is a `palpa simulate` dataset (EDF, with derivatives/truth/twitches.csv); PALPA_OUT
is `palpa run DATASET -o PALPA_OUT --format csv` (or both). For every recording, the palpated
muscle's EMG channel (from the sidecars) goes through NeuroKit2's emg_clean, emg_amplitude and
emg_activation with their defaults, as a researcher would call them; every activation onset
counts as a detected LTR. palpa's twitches.csv is scored the same way. Matching is palpa
evaluate's: one to one, onsets within +-50 ms, closest pairs first.
"""

import csv
import json
import sys
import warnings
from pathlib import Path

import neurokit2 as nk
import numpy as np

TOLERANCE_S = 0.050


def read_edf(path):
    """Plain EDF/EDF+ (16-bit): {label: (fs, physical samples)}, annotations skipped."""
    raw = Path(path).read_bytes()
    ns = int(raw[252:256])
    n_records = int(raw[236:244])
    record_s = float(raw[244:252])

    def field(offset, width):
        base = 256 + offset * ns
        return [raw[base + i * width: base + (i + 1) * width].decode("latin-1").strip() for i in range(ns)]

    labels = field(0, 16)
    pmin = [float(v) for v in field(16 + 80 + 8, 8)]
    pmax = [float(v) for v in field(16 + 80 + 8 + 8, 8)]
    dmin = [float(v) for v in field(16 + 80 + 8 + 16, 8)]
    dmax = [float(v) for v in field(16 + 80 + 8 + 24, 8)]
    spr = [int(v) for v in field(16 + 80 + 8 + 32 + 80, 8)]
    data = np.frombuffer(raw[256 + 256 * ns:], dtype="<i2")
    per_record = sum(spr)
    data = data[: n_records * per_record].reshape(n_records, per_record)
    out, start = {}, 0
    for i, label in enumerate(labels):
        block = data[:, start:start + spr[i]].reshape(-1).astype(np.float64)
        start += spr[i]
        if label == "EDF Annotations":
            continue
        gain = (pmax[i] - pmin[i]) / (dmax[i] - dmin[i])
        out[label] = (spr[i] / record_s, pmin[i] + (block - dmin[i]) * gain)
    return out


def palpated_channel(edf_path):
    stem = str(edf_path)[: -len("_emg.edf")]
    meta = json.loads(Path(stem + "_emg.json").read_text())
    side = meta.get("PalpatedSide")
    with open(stem + "_channels.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["type"] == "EMG" and row["target_muscle"] == meta.get("PalpatedMuscle") and row["side"] == side:
                return row["name"]
    raise SystemExit(f"{edf_path}: no EMG channel of the palpated muscle and side")


def match(truth, detected):
    """One-to-one pairs within the tolerance, closest first: (n matched, onset errors in s)."""
    candidates = sorted(
        (abs(t - d), i, j)
        for i, t in enumerate(truth)
        for j, d in enumerate(detected)
        if abs(t - d) <= TOLERANCE_S
    )
    used_t, used_d, errors = set(), set(), []
    for dt, i, j in candidates:
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            errors.append(dt)
    return errors


def scores(name, truth, detected):
    n_truth = sum(len(v) for v in truth.values())
    n_detected = sum(len(v) for v in detected.values())
    errors = []
    for rec, onsets in truth.items():
        errors += match(onsets, detected.get(rec, []))
    precision = len(errors) / n_detected if n_detected else float("nan")
    recall = len(errors) / n_truth if n_truth else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if errors else 0.0
    median_ms = 1e3 * float(np.median(errors)) if errors else float("nan")
    print(f"{name:<22} {n_truth:>6} {n_detected:>8} {len(errors):>7} {precision:>9.3f} {recall:>6.3f} {f1:>6.3f} {median_ms:>9.1f}")
    return f1


def main():
    # emg_activation warns for every recording where it finds no event; the counts say it.
    warnings.filterwarnings("ignore", module="neurokit2")
    dataset, palpa_out = Path(sys.argv[1]), Path(sys.argv[2])
    truth, truth_emg = {}, {}
    with open(dataset / "derivatives/truth/twitches.csv") as f:
        for row in csv.DictReader(f):
            truth.setdefault(row["recording"], []).append(float(row["onset_s"]))
            if "emg" in row["modality"]:
                truth_emg.setdefault(row["recording"], []).append(float(row["onset_s"]))
    palpa, palpa_emg = {}, {}
    with open(palpa_out / "twitches.csv") as f:
        for row in csv.DictReader(f):
            palpa.setdefault(row["recording"], []).append(float(row["onset_s"]))
            if "emg" in row["modality"]:
                palpa_emg.setdefault(row["recording"], []).append(float(row["onset_s"]))
    neurokit = {}
    for edf in sorted(dataset.glob("sub-*/**/*_emg.edf")):
        rec = str(edf.relative_to(dataset))[: -len(".edf")]
        fs, x = read_edf(edf)[palpated_channel(edf)]
        cleaned = nk.emg_clean(x, sampling_rate=int(fs))
        amplitude = nk.emg_amplitude(cleaned)
        _, info = nk.emg_activation(emg_amplitude=amplitude, sampling_rate=int(fs))
        neurokit[rec] = [i / fs for i in info["EMG_Onsets"]]
    print(f"LTR detection on {dataset} (NeuroKit2 {nk.__version__}), onsets matched within +-50 ms")
    print(f"{'detector':<22} {'truth':>6} {'detected':>8} {'matched':>7} {'precision':>9} {'recall':>6} {'F1':>6} {'onset ms':>9}")
    scores("palpa", truth, palpa)
    scores("NeuroKit2", truth, neurokit)
    print("sEMG alone: LTRs visible in sEMG (emg, emg+force) against palpa's sEMG-witnessed ones:")
    scores("palpa (sEMG)", truth_emg, palpa_emg)
    scores("NeuroKit2 (sEMG)", truth_emg, neurokit)


if __name__ == "__main__":
    main()
