"""Seeds each fuzz target's corpus from real files (issue [6/7] item 2).

EDF/BDF seeds are the real recordings in tests/data/real and the demo dataset, cut to their
header and the first records that fit in 60 kB (the record count rewritten to match), so the
fuzzer mutates real headers without spending its time on megabytes of samples. CSV seeds are
the head of the real Vicon export and the broken corpus; sidecar seeds are the demo's; config
seeds are `palpa config`'s output. Standard library only.
"""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "data" / "real"
CORPUS = pathlib.Path(sys.argv[1])
PALPA = sys.argv[2]
SEED_BYTES = 60_000


def trimmed_edf(data: bytes) -> bytes:
    ns = int(data[252:256].decode("latin-1").strip())
    header_bytes = 256 * (ns + 1)
    spr_at = 256 + ns * 216
    spr = [int(data[spr_at + 8 * i : spr_at + 8 * i + 8].decode("latin-1").strip()) for i in range(ns)]
    sample_bytes = 3 if data[0] == 0xFF else 2
    record_bytes = sum(spr) * sample_bytes
    n_records = int(data[236:244].decode("latin-1").strip())
    keep = max(1, min(n_records, (SEED_BYTES - header_bytes) // max(record_bytes, 1)))
    head = bytearray(data[:header_bytes])
    head[236:244] = f"{keep:<8}".encode("latin-1")
    return bytes(head) + data[header_bytes : header_bytes + keep * record_bytes]


def put(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main() -> None:
    bad = ROOT / "tests" / "data" / "bad"
    edfs = sorted(REAL.rglob("*.edf")) + sorted((ROOT / "datasets" / "demo").rglob("*.edf"))
    for path in edfs:
        put("edf", path.name, trimmed_edf(path.read_bytes()))
    for path in sorted(bad.glob("*.[eb]df")):
        put("edf", "bad-" + path.name, path.read_bytes())

    vicon = (REAL / "pyomeca" / "analogs.csv").read_bytes().splitlines(keepends=True)
    put("csv", "vicon.csv", b"".join(vicon[:300]))
    for path in sorted(bad.glob("*.csv")):
        put("csv", "bad-" + path.name, path.read_bytes())

    demo = ROOT / "datasets" / "demo" / "sub-01" / "emg"
    for selector, pattern in enumerate(["*_emg.json", "*_channels.tsv", "*_events.tsv"]):
        for path in sorted(demo.glob(pattern))[:1]:
            put("sidecar", path.name, bytes([selector]) + path.read_bytes())
    for path in sorted(bad.glob("*.json")) + sorted(bad.glob("*.tsv")):
        selector = 0 if path.suffix == ".json" else 1 if "_channels" in path.name else 2
        put("sidecar", "bad-" + path.name, bytes([selector]) + path.read_bytes())

    default = subprocess.run([PALPA, "config"], check=True, capture_output=True).stdout
    put("config", "default.toml", default)
    put("config", "emg.toml", b"[emg]\nbandpass_hz = [10.0, 400.0]\nenvelope_window_ms = 25.0\n")
    for path in sorted(bad.glob("*.toml")):
        put("config", "bad-" + path.name, path.read_bytes())


if __name__ == "__main__":
    main()
