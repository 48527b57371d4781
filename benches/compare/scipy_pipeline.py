"""The work `palpa run --no-plots` does, as a researcher would write it with NumPy and SciPy:
the reference bench.py times palpa against.

    python scipy_pipeline.py DATASET_FOLDER [--processes N]
    python scipy_pipeline.py RECORDING.parquet|RECORDING.edf [CHANNELS.tsv]

A folder is processed the way a researcher parallelises such a script: every recording
(`*_emg.parquet`, `*_emg.edf`) found under it, one file per task of a `multiprocessing.Pool`
of N processes (default 2), each with its `*_channels.tsv` beside it for the units.

Per sEMG channel: QC (NaN, flat runs, Welch powerline and low-frequency ratios), the mains
frequency inferred, mean removal, `sosfiltfilt` Butterworth band-pass 20-450 Hz (order 4)
and, when the powerline ratio exceeds 0.05, a notch (`iirnotch`, Q 30) at every mains
harmonic up to 450 Hz; the 50 ms moving RMS, TKEO, Welch MNF/MDF over 20-450 Hz, the
resting RMS over contact-free samples and threshold bursts on the smoothed TKEO. Force:
kgf to N, zeroed at its 5th percentile, `sosfiltfilt` low-pass 20 Hz (order 4), contact
episodes by hysteresis. The parameters are palpa's defaults (`palpa config`). Prints one
line of JSON per recording, so the work cannot be optimised away.
"""

import argparse
import json
import multiprocessing
from pathlib import Path

import numpy as np
from scipy import ndimage, signal

BAND_HZ = (20.0, 450.0)
SEGMENT_S = 0.5
ENVELOPE_S = 0.050
TKEO_SMOOTH_S = 0.020
NOTCH_Q = 30.0
NOTCH_AUTO_RATIO = 0.05
FLAT_MIN_S = 0.100
CONTACT_ON_N, CONTACT_OFF_N, CONTACT_MIN_S = 2.0, 1.0, 0.150
THRESHOLD_H_MAD = 8.0


def read(path):
    """Channels as {name: (samples, fs_hz, unit)}."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        time = table.column("time_s").to_numpy()
        fs = 1.0 / float(np.median(np.diff(time[:1000])))
        return {
            name: (table.column(name).to_numpy(), fs, None)
            for name in table.column_names
            if name != "time_s"
        }
    import pyedflib

    with pyedflib.EdfReader(path) as f:
        return {
            label: (f.readSignal(i), f.getSampleFrequency(i), f.getPhysicalDimension(i))
            for i, label in enumerate(f.getSignalLabels())
        }


def units(channels_tsv):
    if not channels_tsv:
        return {}
    rows = [line.rstrip("\n").split("\t") for line in open(channels_tsv)]
    head = rows[0]
    return {r[0]: r[head.index("units")] for r in rows[1:]}


def band_power(f, p, lo, hi):
    m = (f >= lo) & (f <= hi)
    return float(p[m].sum() * (f[1] - f[0]))


def flat_fraction(x, fs):
    still = np.abs(np.diff(x)) <= 1e-9
    edges = np.diff(np.concatenate(([0], still.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs = ends - starts
    return float(runs[runs >= FLAT_MIN_S * fs].sum()) / len(x)


def runs_above(mask, min_len):
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = ends - starts >= min_len
    return list(zip(starts[keep], ends[keep]))


def contact(force, fs):
    """Hysteresis (on above 2 N, off below 1 N; the last threshold crossed decides), runs of
    at least 150 ms; returns the runs and the in-contact mask."""
    marks = np.where(force > CONTACT_ON_N, 1, np.where(force < CONTACT_OFF_N, -1, 0))
    last = np.maximum.accumulate(np.where(marks != 0, np.arange(len(force)), 0))
    state = marks[last] == 1
    return runs_above(state, int(CONTACT_MIN_S * fs)), state


def process(path, channels_tsv=None):
    """One recording's summary, as a dict."""
    unit_of = units(channels_tsv)
    channels = read(path)
    force_name = next(n for n in channels if "force" in n.lower())
    force, force_fs, force_unit = channels.pop(force_name)
    force_unit = unit_of.get(force_name, force_unit)
    if force_unit == "kgf":
        force = force * 9.80665
    force = force - np.percentile(force, 5)
    lowpass = signal.butter(4, 20.0, "lowpass", fs=force_fs, output="sos")
    force_lp = signal.sosfiltfilt(lowpass, force)
    episodes, in_contact = contact(force_lp, force_fs)
    episode_peaks = [float(force_lp[a:b].max()) for a, b in episodes]
    plateaus = [float(np.median(force_lp[a:b])) for a, b in episodes]

    summary = {"episodes": len(episodes), "peak_n": sum(episode_peaks), "plateau_n": sum(plateaus)}
    for name, (x, fs, _) in channels.items():
        nan_fraction = float(np.mean(~np.isfinite(x)))
        flat = flat_fraction(x, fs)
        nper = int(SEGMENT_S * fs)
        f, p = signal.welch(x - x.mean(), fs=fs, nperseg=nper, noverlap=nper // 2)
        total = band_power(f, p, 10.0, 450.0)
        ratios = {}
        for mains in (50.0, 60.0):
            harmonics = np.arange(mains, min(450.0, fs / 2) + 1e-9, mains)
            ratios[mains] = sum(band_power(f, p, h - 1.0, h + 1.0) for h in harmonics) / total
        mains = max(ratios, key=ratios.get)
        lowfreq = band_power(f, p, 0.0, 10.0) / band_power(f, p, 0.0, 450.0)

        bandpass = signal.butter(4, BAND_HZ, "bandpass", fs=fs, output="sos")
        y = signal.sosfiltfilt(bandpass, x - x.mean())
        if ratios[mains] > NOTCH_AUTO_RATIO:
            harmonics = np.arange(mains, min(450.0, fs / 2 - 1e-9) + 1e-9, mains)
            notch = np.vstack([signal.tf2sos(*signal.iirnotch(h, NOTCH_Q, fs=fs)) for h in harmonics])
            y = signal.sosfiltfilt(notch, y)
        envelope = np.sqrt(ndimage.uniform_filter1d(y * y, int(ENVELOPE_S * fs), mode="nearest"))
        tkeo = np.empty_like(y)
        tkeo[1:-1] = y[1:-1] ** 2 - y[:-2] * y[2:]
        tkeo[0], tkeo[-1] = tkeo[1], tkeo[-2]

        f, p = signal.welch(y, fs=fs, nperseg=nper, noverlap=nper // 2)
        band = (f >= BAND_HZ[0]) & (f <= BAND_HZ[1])
        fb, pb = f[band], p[band]
        mnf = float((fb * pb).sum() / pb.sum())
        cumulative = np.cumsum(pb)
        mdf = float(fb[np.searchsorted(cumulative, cumulative[-1] / 2)])

        rest = ~np.interp(np.arange(len(y)) / fs, np.arange(len(in_contact)) / force_fs, in_contact).astype(bool)
        rest_rms = float(np.sqrt(np.mean(y[rest] ** 2))) if rest.any() else float("nan")
        smooth = ndimage.uniform_filter1d(tkeo, int(TKEO_SMOOTH_S * fs))
        quiet = smooth[rest] if rest.any() else smooth
        median = np.median(quiet)
        threshold = median + THRESHOLD_H_MAD * np.median(np.abs(quiet - median))
        bursts = runs_above(smooth > threshold, int(0.020 * fs))
        summary[name] = {
            "nan": nan_fraction,
            "flat": flat,
            "powerline": ratios[mains],
            "lowfreq": lowfreq,
            "mnf_hz": mnf,
            "mdf_hz": mdf,
            "rest_rms_uv": rest_rms,
            "envelope_max": float(envelope.max()),
            "bursts": len(bursts),
        }
    return summary


def recordings(folder):
    """(recording, channels.tsv) of every recording under `folder`, in name order."""
    found = sorted(p for pattern in ("*_emg.parquet", "*_emg.edf") for p in Path(folder).rglob(pattern))
    if not found:
        raise SystemExit(f"{folder}: no *_emg.parquet or *_emg.edf recording under it")
    tsvs = [p.with_name(p.name.rsplit("_emg.", 1)[0] + "_channels.tsv") for p in found]
    return [(str(p), str(t) if t.exists() else None) for p, t in zip(found, tsvs)]


def process_pair(pair):
    recording, channels_tsv = pair
    return json.dumps({"recording": Path(recording).name, **process(recording, channels_tsv)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="dataset folder, or one recording")
    parser.add_argument("channels_tsv", nargs="?", help="the recording's channels.tsv (one recording only)")
    parser.add_argument("--processes", type=int, default=2, help="pool size for a folder (default 2)")
    args = parser.parse_args()
    if not Path(args.path).is_dir():
        print(process_pair((args.path, args.channels_tsv)))
        return
    # chunksize=1: one file per task, so that a slow file does not hold back a whole chunk.
    with multiprocessing.Pool(args.processes) as pool:
        for line in pool.imap(process_pair, recordings(args.path), chunksize=1):
            print(line)


if __name__ == "__main__":
    main()
