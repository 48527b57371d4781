"""palpa's signal chain against SciPy on the same data, in one run (issue [2/7]).

Usage: benches/compare/run.sh scipy_signal

Work per channel (1 h of sEMG at 2 kHz, the same 8 channels for both):
  remove the mean; band-pass 20-450 Hz Butterworth order 4, sosfiltfilt; 50 Hz notch
  cascade (iirnotch Q=30 at 50..450 Hz), sosfiltfilt; 50 ms centred moving RMS; TKEO;
  Welch PSD (nperseg 1000) with MNF and MDF over 20-450 Hz.
Filters are designed once, outside the timing, for both.

palpa is timed by its criterion bench (benches/signal.rs) reading the same data file; its
median comes from target/criterion/.../new/estimates.json. SciPy is timed here with
time.perf_counter, median of several runs; one channel is a 1-D array, eight channels one
2-D array (SciPy filters along the last axis in compiled code: its best case).
Goals: 1 channel >= 3x SciPy; 8 channels on this 2-core machine >= 6x SciPy.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import ndimage, signal

ROOT = Path(__file__).resolve().parents[2]
FS = 2000.0
N = 3600 * 2000
CHANNELS = 8
DATA = Path(os.environ.get("TMPDIR", "/tmp")) / "palpa-bench" / "signal_8x1h_2khz.f64"


def make_data():
    """emg-like noise + DC + 50 Hz hum, 8 channels, written channel after channel."""
    if DATA.exists() and DATA.stat().st_size == CHANNELS * N * 8:
        return np.fromfile(DATA, dtype="<f8").reshape(CHANNELS, N)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    t = np.arange(N) / FS
    x = 40.0 * rng.standard_normal((CHANNELS, N)) + 150.0 + 25.0 * np.sin(2 * np.pi * 50.0 * t)
    x.astype("<f8").tofile(DATA)
    return x


BP = signal.butter(4, [20.0, 450.0], btype="bandpass", fs=FS, output="sos")
NOTCH = np.vstack([np.concatenate(signal.iirnotch(k * 50.0, 30.0, FS)) for k in range(1, 10)])
WINDOW = int(round(0.05 * FS))


def process(x):
    y = signal.sosfiltfilt(BP, x - x.mean(axis=-1, keepdims=True), axis=-1)
    y = signal.sosfiltfilt(NOTCH, y, axis=-1)
    envelope = np.sqrt(ndimage.uniform_filter1d(y * y, size=WINDOW, axis=-1, mode="nearest"))
    tkeo = np.zeros_like(y)
    tkeo[..., 1:-1] = y[..., 1:-1] ** 2 - y[..., :-2] * y[..., 2:]
    f, p = signal.welch(y, FS, nperseg=int(round(0.5 * FS)), axis=-1)
    band = (f >= 20.0) & (f <= 450.0)
    pb = p[..., band]
    mnf = (f[band] * pb).sum(axis=-1) / pb.sum(axis=-1)
    cumulative = np.cumsum(pb, axis=-1)
    mdf = f[band][np.argmax(cumulative >= pb.sum(axis=-1, keepdims=True) / 2.0, axis=-1)]
    return envelope, tkeo, mnf, mdf


def time_scipy(x, repeats):
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        process(x)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def time_palpa():
    env = dict(os.environ, PALPA_BENCH_SIGNAL=str(DATA))
    subprocess.run(
        ["cargo", "bench", "--bench", "signal", "--", "--noplot"],
        cwd=ROOT, env=env, check=True, stdout=sys.stderr,
    )
    medians = {}
    for name in ("1_channel", "8_channels"):
        estimates = ROOT / "target" / "criterion" / "signal_1h_2khz" / name / "new" / "estimates.json"
        medians[name] = json.loads(estimates.read_text())["median"]["point_estimate"] / 1e9
    return medians


def main():
    data = make_data()
    palpa = time_palpa()
    one = time_scipy(data[0], repeats=5)
    eight = time_scipy(data, repeats=3)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"{'work (1 h at 2 kHz)':<22} {'palpa median':>13} {'SciPy median':>13} {'ratio':>7} {'goal':>6}")
    for label, ours, theirs, goal in [
        ("1 channel", palpa["1_channel"], one, 3.0),
        ("8 channels", palpa["8_channels"], eight, 6.0),
    ]:
        ratio = theirs / ours
        print(f"{label:<22} {ours:>12.3f}s {theirs:>12.3f}s {ratio:>6.1f}x {goal:>5.0f}x{'' if ratio >= goal else '  (missed)'}")


if __name__ == "__main__":
    main()
