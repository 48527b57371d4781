"""Reference fixtures for palpa's signal module, computed with SciPy.

Usage: make_fixtures.sh (makes the pinned virtual environment, then runs this).

Writes OUT/manifest.json and little-endian float64 arrays OUT/*.f64. Every case records the
parameters, the SciPy call it reproduces, and the arrays' file names. palpa's tests
(tests/signal_reference.rs) compare with the tolerances of issue [2/7]:
  filtered output  max |d| <= 1e-9 * max|x|
  Welch PSD        per bin |d| <= 1e-9 * value (relative)
  MNF / MDF        within 1e-6 Hz

Definitions shared with palpa (DESIGN 3.1, 3.6):
  MNF = sum(f P) / sum(P) over bins with 20 <= f <= 450
  MDF = interp(total / 2, cumsum(P), f) over that band (linear between the bins around half)
  mains line = in welch(x, fs, nperseg=ceil(fs / 0.25)), the peak bin within +-0.5 Hz of f0
  over the median of the bins 1-3 Hz from it, in dB
"""

import json
import warnings
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy import signal

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/signal")
OUT.mkdir(parents=True, exist_ok=True)
for old in OUT.glob("*.f64"):
    old.unlink()

RATES = [1000, 1024, 2000, 2048, 4000]
ORDERS = [2, 4, 6]
RNG = np.random.default_rng(20261121)


def save(name, array):
    array = np.ascontiguousarray(array, dtype="<f8")
    (OUT / f"{name}.f64").write_bytes(array.tobytes())
    return f"{name}.f64"


def emg_like(n, fs):
    """Noise with a DC offset, a slow drift and mains, scaled like sEMG in uV."""
    t = np.arange(n) / fs
    x = 40.0 * RNG.standard_normal(n)
    x += 150.0 + 60.0 * np.sin(2 * np.pi * 0.7 * t)
    x += 25.0 * np.sin(2 * np.pi * 50.0 * t + 0.3) + 8.0 * np.sin(2 * np.pi * 150.0 * t)
    return x


def padlen(sos):
    ntaps = 2 * len(sos) + 1
    ntaps -= min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
    return 3 * ntaps


def band(kind, fs):
    """Corners scaled to the rate so every type stays valid at 1000-4000 Hz."""
    return {
        "lowpass": 20.0,
        "highpass": 20.0,
        "bandpass": [20.0, 450.0],
        "bandstop": [45.0, 55.0 if fs < 2000 else 65.0],
    }[kind]


def spectral_measures(f, p):
    in_band = (f >= 20.0) & (f <= 450.0)
    fb, pb = f[in_band], p[in_band]
    mnf = float((fb * pb).sum() / pb.sum())
    mdf = float(np.interp(pb.sum() / 2.0, np.cumsum(pb), fb))
    return mnf, mdf


def mains_line(f, p, f0):
    """The peak within +-0.5 Hz of f0 and its height over the median of its 1-3 Hz flanks."""
    df = f[1] - f[0]
    lo, hi = int(round((f0 - 0.5) / df)), int(round((f0 + 0.5) / df))
    k = lo + int(np.argmax(p[lo:hi + 1]))
    d = np.abs(np.arange(len(p)) - k) * df
    background = np.median(p[(d >= 1.0) & (d <= 3.0)])
    return float(f[k]), float(10 * np.log10(p[k] / background))


cases = []

# Butterworth design + sosfiltfilt: every rate, order and type; lengths from just above
# the padding to a few seconds.
for fs in RATES:
    for order in ORDERS:
        for i, kind in enumerate(["lowpass", "highpass", "bandpass", "bandstop"]):
            wn = band(kind, fs)
            sos = signal.butter(order, wn, btype=kind, fs=fs, output="sos")
            pad = padlen(sos)
            n = [pad + 1, pad + 9, int(round(0.37 * fs)), int(round(1.5 * fs))][(i + order) % 4]
            x = emg_like(n, fs)
            y = signal.sosfiltfilt(sos, x)
            name = f"butter_{kind}_o{order}_fs{fs}_n{n}"
            cases.append({
                "kind": "butter",
                "name": name,
                "call": f"sosfiltfilt(butter({order}, {wn}, btype='{kind}', fs={fs}, output='sos'), x)",
                "fs_hz": fs,
                "order": order,
                "btype": kind,
                "wn_hz": wn,
                "padlen": int(pad),
                "sos": save(name + "_sos", sos),
                "x": save(name + "_x", x),
                "y": save(name + "_y", y),
            })

# Mains notch cascade: one iirnotch(k f0, Q=30) per harmonic up to 450 Hz, below Nyquist.
for fs in RATES:
    for f0 in (50.0, 60.0):
        harmonics = [k * f0 for k in range(1, 100) if k * f0 <= 450.0 and k * f0 < fs / 2]
        sos = np.vstack([np.concatenate(signal.iirnotch(h, 30.0, fs)) for h in harmonics])
        x = emg_like(int(2 * fs), fs)
        name = f"notch_{int(f0)}_fs{fs}"
        cases.append({
            "kind": "notch",
            "name": name,
            "call": f"sosfiltfilt(vstack(iirnotch(k*{f0}, 30, {fs}) for k*{f0} <= 450), x)",
            "fs_hz": fs,
            "mains_hz": f0,
            "q": 30.0,
            "sos": save(name + "_sos", sos),
            "x": save(name + "_x", x),
            "y": save(name + "_y", signal.sosfiltfilt(sos, x)),
        })

# The EMG chain of DESIGN 3.2 over 60 s at 2048 Hz: demean, band-pass 20-450 order 4,
# then the 50 Hz notch cascade, each zero-phase.
fs = 2048
x = emg_like(60 * fs, fs)
bp = signal.butter(4, [20.0, 450.0], btype="bandpass", fs=fs, output="sos")
notch = np.vstack([np.concatenate(signal.iirnotch(k * 50.0, 30.0, fs)) for k in range(1, 10)])
y_bp = signal.sosfiltfilt(bp, x - x.mean())
y_chain = signal.sosfiltfilt(notch, y_bp)
cases.append({
    "kind": "emg_chain",
    "name": "emg_chain_60s_fs2048",
    "call": "y_bp = sosfiltfilt(butter(4,[20,450],'bandpass',fs=2048,output='sos'), x - x.mean()); y = sosfiltfilt(notch50, y_bp)",
    "fs_hz": fs,
    "mains_hz": 50.0,
    "x": save("emg_chain_x", x),
    "y_bandpass": save("emg_chain_y_bandpass", y_bp),
    "y": save("emg_chain_y", y_chain),
})

# Welch: nperseg = round(0.5 fs), SciPy defaults otherwise; odd and even segment counts,
# a ragged tail, and input shorter than one segment.
for fs in RATES:
    nperseg = int(round(0.5 * fs))
    step = nperseg - nperseg // 2
    for segments, tail in [(1, 0), (2, 0), (7, step // 3), (10, 0), (11, 5)]:
        n = nperseg + (segments - 1) * step + tail
        x = emg_like(n, fs)
        f, p = signal.welch(x, fs, nperseg=nperseg)
        mnf, mdf = spectral_measures(f, p)
        name = f"welch_fs{fs}_seg{segments}_n{n}"
        cases.append({
            "kind": "welch",
            "name": name,
            "call": f"welch(x, {fs}, nperseg={nperseg})",
            "fs_hz": fs,
            "nperseg": nperseg,
            "segments": segments,
            "x": save(name + "_x", x),
            "psd": save(name + "_psd", p),
            "df_hz": float(f[1] - f[0]),
            "mnf_hz": mnf,
            "mdf_hz": mdf,
        })
    n = nperseg // 2 + 3
    x = emg_like(n, fs)


    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, p = signal.welch(x, fs, nperseg=nperseg)
    name = f"welch_fs{fs}_short_n{n}"
    cases.append({
        "kind": "welch",
        "name": name,
        "call": f"welch(x, {fs}, nperseg={nperseg}) with len(x) < nperseg (SciPy uses nperseg = len(x))",
        "fs_hz": fs,
        "nperseg": n,
        "segments": 1,
        "x": save(name + "_x", x),
        "psd": save(name + "_psd", p),
        "df_hz": float(f[1] - f[0]),
    })

# Mains lines (DESIGN 3.1): sEMG-like noise with a line off nominal (50.1 or 59.9 Hz) and
# its third harmonic, and noise without one; SciPy's Welch with 0.25 Hz bins.
for fs, line_hz, amplitude in [(1000, 50.1, 3.0), (2000, 59.9, 1.5), (2048, 50.1, 0.0)]:
    n = 30 * fs
    t = np.arange(n) / fs
    x = 20.0 * RNG.standard_normal(n) + amplitude * np.sin(2 * np.pi * line_hz * t)
    x += 0.5 * amplitude * np.sin(2 * np.pi * 3 * line_hz * t + 1.0)
    nperseg = int(np.ceil(fs / 0.25))
    f, p = signal.welch(x, fs, nperseg=nperseg)
    name = f"mains_fs{fs}_{line_hz}_a{amplitude}"
    cases.append({
        "kind": "mains",
        "name": name,
        "call": f"welch(x, {fs}, nperseg={nperseg}); peak within 0.5 Hz over median of 1-3 Hz flanks",
        "fs_hz": fs,
        "nperseg": nperseg,
        "x": save(name + "_x", x),
        "psd": save(name + "_psd", p),
        "lines": {str(f0): mains_line(f, p, f0) for f0 in (50.0, 60.0)},
    })

manifest = {
    "generator": "tests/reference/make_fixtures.py",
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "cases": cases,
}
(OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
size = sum(p.stat().st_size for p in OUT.glob("*"))
print(f"{len(cases)} cases, {size / 1e6:.1f} MB in {OUT} (numpy {np.__version__}, scipy {scipy.__version__})")
