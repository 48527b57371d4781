"""palpa's benchmark of record: a batch of recordings run by palpa, by the same work in SciPy
and by NeuroKit2, timed in one invocation; or one palpa binary against another.

    benches/compare/run.sh [--repeats N] [--nk-repeats N] [--no-nk] [--palpa BIN] [--work DIR]
    benches/compare/run.sh --compare OLD_BIN NEW_BIN [--pairs N] [--work DIR]

The batch: `palpa simulate --subjects 8 --duration-s 600 --emg-channels 8 --emg-fs-hz 2000
--format parquet`, 16 recordings of 600 s (8 sEMG channels at 2 kHz plus force) written by
polars; every second one in name order is then rewritten by pyarrow with its defaults
(dictionary encoding, snappy), because researchers' Parquet comes from both writers and the
readers differ in how fast they decode each. The set is made once and kept in the work folder.

Timed, as pairs run one after the other (palpa, SciPy, palpa, SciPy, ...) so that a slow
stretch of the machine touches both rather than one:
- palpa: `palpa run DATASET -o OUT -j 2 --no-plots -q`;
- SciPy: scipy_pipeline.py on the folder, one file per task of a 2-process
  multiprocessing.Pool, the way a researcher parallelises a per-file script;
and afterwards NeuroKit2's `emg_process` (nk_process.py) on one recording, all 8 channels,
`--nk-repeats` times (it takes minutes). NeuroKit2's time for the batch is extrapolated from
it: median × recordings / 2 processes, as if two processes shared the batch without slowing
each other down, which favours NeuroKit2. Each palpa and SciPy command first runs `--warmup`
times unmeasured, so that no measured run pays alone for a cold page cache.

Wall time: this script's clock around each process; the median is quoted. Peak RSS: of the
process tree, the largest sum of RSS over the process and its descendants, sampled every
50 ms from /proc, and never below the exact peak of the command's own process
(`/usr/bin/time -f %M`). Pages that the Pool's forked workers share with their parent count
once per process, as RSS counts them.

--compare: the two binaries alternately, `--pairs` pairs, the first of each pair swapped from
one pair to the next, on the batch and on one 600 s recording copied alone into its own
folder (both `run -j 2 --no-plots`); medians, the ratio new/old against the guards (batch at
most 1.10, one recording at most 1.20), peak RSS, and every table the two binaries wrote
compared byte for byte, as `cmp` does.

The palpa binary: --palpa, else PALPA_BIN, else target/release/palpa built first. Progress
goes to stderr; stdout gets the results, with a Markdown table for benches/PERFORMANCE.md.
"""

import argparse
import filecmp
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
SEED = 11
EMG_CHANNELS = 8
EMG_FS_HZ = 2000
PROCESSES = 2
BATCH_GUARD = 1.10
ONE_GUARD = 1.20
TABLE_SUFFIXES = (".parquet", ".csv")


# ================================================================ measuring one process


class TreeRss:
    """Samples the summed RSS of the descendants of a process (/usr/bin/time's: what it runs)
    in a thread, every 50 ms. They are looked up by a scan of /proc at each sample of the
    first 0.5 s, then every 0.5 s only, since a scan costs far more than reading a few statm
    files and the Pool forks its workers once, at its start."""

    PERIOD_S = 0.05
    SCAN_EVERY = 10
    PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

    def __init__(self, pid):
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    def _tree(self):
        parent = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        # The command name, in parentheses, may hold spaces: split after it.
                        parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        tree, frontier = [], [self.pid]
        while frontier:
            frontier = [p for p, pp in parent.items() if pp in frontier]
            tree += frontier
        return tree

    def _run(self):
        tree, n = [], 0
        while not self._stop.is_set():
            if n < self.SCAN_EVERY or n % self.SCAN_EVERY == 0:
                tree = self._tree()
            total = 0
            for pid in tree:
                try:
                    with open(f"/proc/{pid}/statm") as f:
                        total += int(f.read().split()[1]) * self.PAGE_KB
                except (OSError, IndexError, ValueError):
                    pass
            self.peak_kb = max(self.peak_kb, total)
            n += 1
            self._stop.wait(self.PERIOD_S)


def timed(cmd):
    """(wall s, peak RSS MiB of the process tree) of one run of `cmd`, which must succeed.
    /usr/bin/time runs it, for the exact peak of the command's own process: a child that
    Python starts directly would report at least this script's peak, which it inherits
    until exec."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-o", report.name, "-f", "%M", *cmd],
                                stdout=subprocess.DEVNULL)
        with TreeRss(proc.pid) as rss:
            proc.wait()
            wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))}: exit status {proc.returncode}")
        peak_kb = int(report.read().split()[-1])
    return wall, max(rss.peak_kb, peak_kb) / 1024


class Runs:
    """The runs of one command, in the order they ran."""

    def __init__(self, label, cmd, before=None):
        self.label, self.cmd, self.before = label, cmd, before
        self.walls, self.rss = [], []

    def run(self, measured=True):
        if self.before:
            self.before()
        wall, rss = timed(self.cmd)
        if measured:
            self.walls.append(wall)
            self.rss.append(rss)
        note = "" if measured else " (warm-up, not counted)"
        print(f"  {self.label}: {wall:.3f} s, {rss:.0f} MiB{note}", file=sys.stderr, flush=True)

    @property
    def median_s(self):
        return statistics.median(self.walls)

    @property
    def peak_mib(self):
        return max(self.rss)


def fresh(folder):
    """A callable that empties `folder`, so that every run writes its outputs anew."""
    return lambda: shutil.rmtree(folder, ignore_errors=True)


# ================================================================ the data


def palpa_binary(given):
    if given:
        return str(Path(given).resolve())
    if os.environ.get("PALPA_BIN"):
        return str(Path(os.environ["PALPA_BIN"]).resolve())
    print("building palpa (cargo build --release)", file=sys.stderr, flush=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return str(TARGET / "release" / "palpa")


def batch(palpa, work, subjects, duration_s):
    """The batch folder, simulated and half rewritten by pyarrow on first use. A file
    `.complete`, written last, marks a finished set: an interrupted one is made again."""
    import pyarrow
    import pyarrow.parquet as pq

    folder = work / f"batch-{subjects}x2x{duration_s:g}s-seed{SEED}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    print(f"simulating {2 * subjects} recordings of {duration_s:g} s into {folder}",
          file=sys.stderr, flush=True)
    subprocess.run(
        [palpa, "-q", "simulate", "-o", str(folder), "--subjects", str(subjects),
         "--duration-s", f"{duration_s:g}", "--emg-channels", str(EMG_CHANNELS),
         "--emg-fs-hz", str(EMG_FS_HZ), "--format", "parquet", "--seed", str(SEED)],
        check=True,
    )
    files = recordings(folder)
    rewritten = files[1::2]
    for f in rewritten:
        pq.write_table(pq.read_table(f), f)
    done.write_text(json.dumps({
        "made_by": palpa,
        "pyarrow": pyarrow.__version__,
        "written_by_polars": [f.name for f in files[0::2]],
        "rewritten_by_pyarrow": [f.name for f in rewritten],
    }, indent=1) + "\n")
    return folder


def recordings(folder):
    return sorted(folder.rglob("*_emg.parquet"))


def one_recording(dataset, work):
    """A folder holding the batch's first recording alone (polars-written), with its
    sidecars and the dataset description, hard-linked (copied where links fail)."""
    first = recordings(dataset)[0]
    folder = work / f"one-{dataset.name}"
    emg = folder / first.parent.relative_to(dataset)
    if (emg / first.name).exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    emg.mkdir(parents=True)
    stem = first.name[: -len("_emg.parquet")]
    for f in [dataset / "dataset_description.json", *first.parent.glob(f"{stem}_*")]:
        target = folder / f.relative_to(dataset)
        try:
            os.link(f, target)
        except OSError:
            shutil.copy2(f, target)
    return folder


# ================================================================ what is printed


def shell(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine():
    """nproc, the CPU model and the memory, as `nproc`, `lscpu` and `free -g` give them."""
    cores = shell(["nproc"]).strip() or str(os.cpu_count())
    model = next((l.split(":", 1)[1].strip() for l in shell(["lscpu"]).splitlines()
                  if l.startswith("Model name")), platform.processor())
    mem = next((l.split()[1] for l in shell(["free", "-g"]).splitlines()
                if l.startswith("Mem:")), "?")
    return f"{cores} cores ({model}), {mem} GiB, {platform.system()} {platform.release()}"


def version(palpa):
    return shell([palpa, "--version"]).strip() or Path(palpa).name


def runs_line(runs):
    return f"- {runs.label}: " + " ".join(f"{w:.3f}" for w in runs.walls) + " s"


# ================================================================ the two modes


def record(args):
    palpa = palpa_binary(args.palpa)
    dataset = batch(palpa, args.work, args.subjects, args.duration_s)
    n = len(recordings(dataset))
    out = args.work / "out-palpa"
    palpa_runs = Runs("palpa", [palpa, "run", str(dataset), "-o", str(out), "-j", str(PROCESSES),
                                "--no-plots", "-q"], before=fresh(out))
    scipy_runs = Runs("SciPy", [sys.executable, str(HERE / "scipy_pipeline.py"), str(dataset),
                                "--processes", str(PROCESSES)])
    print(f"warm-up: {args.warmup} run(s) of each", file=sys.stderr, flush=True)
    for _ in range(args.warmup):
        palpa_runs.run(measured=False)
        scipy_runs.run(measured=False)
    for i in range(args.repeats):
        print(f"pair {i + 1} of {args.repeats}", file=sys.stderr, flush=True)
        palpa_runs.run()
        scipy_runs.run()
    nk_runs = None
    if not args.no_nk:
        nk_runs = Runs("NeuroKit2, one recording",
                       [sys.executable, str(HERE / "nk_process.py"), str(recordings(dataset)[0])])
        print(f"NeuroKit2 on one recording, {args.nk_repeats} run(s)", file=sys.stderr, flush=True)
        for _ in range(args.nk_repeats):
            nk_runs.run()

    p = palpa_runs.median_s
    packages = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("NumPy", "SciPy", "pyarrow", "NeuroKit2"))
    print(f"\n{machine()}; {date.today()}; Python {platform.python_version()}, {packages}; "
          f"{version(palpa)}.")
    print(f"Batch: {n} recordings of {args.duration_s:g} s, {EMG_CHANNELS} sEMG channels at "
          f"{EMG_FS_HZ} Hz + force, Parquet (half polars, half pyarrow defaults). Wall time: "
          f"median of {args.repeats} alternating pairs after {args.warmup} warm-up; peak RSS: "
          f"process tree, largest of the runs.\n")
    print(f"| tool | how it runs on the batch | wall s | wall / palpa's | peak RSS MiB |")
    print(f"|---|---|---|---|---|")
    print(f"| palpa | `palpa run -j {PROCESSES} --no-plots`, one process | {p:.2f} | 1 "
          f"| {palpa_runs.peak_mib:.0f} |")
    s = scipy_runs.median_s
    print(f"| SciPy | `scipy_pipeline.py`, {PROCESSES}-process Pool, one file per task "
          f"| {s:.1f} | {s / p:.1f} | {scipy_runs.peak_mib:.0f} |")
    if nk_runs:
        one = nk_runs.median_s
        nk = one * n / PROCESSES
        print(f"| NeuroKit2 | `emg_process` per channel, **extrapolated**: one recording "
              f"({one:.1f} s, median of {len(nk_runs.walls)}) × {n} / {PROCESSES} processes "
              f"| {nk:.0f} | {nk / p:.0f} | {nk_runs.peak_mib:.0f} (one process) |")
    print(f"\nSciPy / palpa: {s / p:.1f}×" + (f"; NeuroKit2 / palpa: {nk / p:.0f}× "
          f"(NeuroKit2 extrapolated from one recording)" if nk_runs else ""))
    print("\nEvery run, in the order it ran:")
    for runs in (palpa_runs, scipy_runs, nk_runs):
        if runs:
            print(runs_line(runs))


def compare(args):
    old, new = (str(Path(b).resolve()) for b in args.compare)
    dataset = batch(old, args.work, args.subjects, args.duration_s)
    one = one_recording(dataset, args.work)
    workloads = {}
    for name, folder in (("batch", dataset), ("one", one)):
        pair = []
        for tag, binary in (("old", old), ("new", new)):
            out = args.work / f"out-{tag}-{name}"
            pair.append(Runs(f"{tag} {name}", [binary, "run", str(folder), "-o", str(out),
                                               "-j", str(PROCESSES), "--no-plots", "-q"],
                             before=fresh(out)))
        workloads[name] = pair
    print(f"warm-up: {args.warmup} run(s) of each", file=sys.stderr, flush=True)
    for _ in range(args.warmup):
        for pair in workloads.values():
            for runs in pair:
                runs.run(measured=False)
    for i in range(args.pairs):
        print(f"pair {i + 1} of {args.pairs}", file=sys.stderr, flush=True)
        for pair in workloads.values():
            # Swapping which binary goes first keeps an order effect out of the ratio.
            for runs in (pair if i % 2 == 0 else pair[::-1]):
                runs.run()

    n = len(recordings(dataset))
    print(f"\n{machine()}; {date.today()}")
    print(f"old: {old} ({version(old)})\nnew: {new} ({version(new)})")
    print(f"Wall time: median of {args.pairs} alternating pairs after {args.warmup} warm-up; "
          f"peak RSS: largest of the runs.\n")
    print("| workload | old s | new s | new / old | guard | old RSS MiB | new RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    labels = {"batch": (f"batch of {n} × {args.duration_s:g} s, `run -j {PROCESSES}`", BATCH_GUARD),
              "one": (f"one {args.duration_s:g} s recording, `run -j {PROCESSES}`", ONE_GUARD)}
    for name, (o, w) in workloads.items():
        label, guard = labels[name]
        ratio = w.median_s / o.median_s
        verdict = "met" if ratio <= guard else "MISSED"
        print(f"| {label} | {o.median_s:.3f} | {w.median_s:.3f} | {ratio:.3f} "
              f"| ≤ {guard:.2f} {verdict} | {o.peak_mib:.0f} | {w.peak_mib:.0f} |")
    print("\nEvery run, in the order it ran:")
    for pair in workloads.values():
        for runs in pair:
            print(runs_line(runs))
    differ = 0
    for name in workloads:
        a, b = args.work / f"out-old-{name}", args.work / f"out-new-{name}"
        tables = sorted({p.relative_to(root) for root in (a, b) for p in root.rglob("*")
                         if p.suffix in TABLE_SUFFIXES})
        print(f"\nTables of the {name} run, old against new (byte for byte):")
        for t in tables:
            if not (a / t).exists() or not (b / t).exists():
                state = "only in " + ("new" if not (a / t).exists() else "old")
            else:
                state = "identical" if filecmp.cmp(a / t, b / t, shallow=False) else "DIFFER"
            differ += state != "identical"
            print(f"- {t}: {state}")
    print(f"\n{differ} table(s) not identical")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--palpa", help="palpa binary (default: PALPA_BIN, else built)")
    parser.add_argument("--compare", nargs=2, metavar=("OLD_BIN", "NEW_BIN"),
                        help="time two palpa binaries against each other instead")
    parser.add_argument("--repeats", type=int, default=5, help="palpa/SciPy pairs (default 5)")
    parser.add_argument("--pairs", type=int, default=7,
                        help="old/new pairs per workload with --compare (default 7)")
    parser.add_argument("--nk-repeats", type=int, default=2,
                        help="runs of NeuroKit2 on one recording (default 2, minutes each)")
    parser.add_argument("--no-nk", action="store_true", help="skip NeuroKit2")
    parser.add_argument("--warmup", type=int, default=1,
                        help="unmeasured runs of each command first (default 1)")
    parser.add_argument("--work", type=Path, default=TARGET / "bench",
                        help="where the batch is kept and the outputs go (default target/bench)")
    # Smaller batches, for trying the script out; the benchmark of record uses the defaults.
    parser.add_argument("--subjects", type=int, default=8, help="2 recordings each (default 8)")
    parser.add_argument("--duration-s", type=float, default=600, help="per recording (default 600)")
    args = parser.parse_args()
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("bench.py: needs /usr/bin/time (GNU time; Debian package `time`) "
                         "for each process's peak RSS")
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.compare:
        compare(args)
    else:
        record(args)


if __name__ == "__main__":
    main()
