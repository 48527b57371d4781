"""What a fresh page costs on this machine, for reading the scale runs (issue 6):

    benches/compare/run.sh fresh_pages [--mb 500] [--pause-s 3]

Each measurement is a fresh process that maps `--mb` MB of anonymous memory, as 4 KiB pages
or advised as huge pages (as palpa's sample buffers are), writes one byte per 4 KiB, and
prints the rate. Runs follow each other at once (the pages the last process freed are still
the guest's) or after a pause of `--pause-s` (long enough for a VM's free page reporting
to hand them back to the host, which must then back them anew).
"""

import argparse
import mmap
import subprocess
import sys
import time

PAGE = 4096


def touch(mb, huge):
    """MB/s of the first write to each page of a new `mb` MB map."""
    size = mb << 20
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if huge:
        memory.madvise(mmap.MADV_HUGEPAGE)
    view = memoryview(memory)
    start = time.perf_counter()
    for at in range(0, size, PAGE):
        view[at] = 1
    elapsed = time.perf_counter() - start
    view.release()
    memory.close()
    return size / 1e6 / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--pause-s", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=["4k", "huge"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(f"{touch(args.mb, args.child == 'huge'):.0f}")
        return
    child = [sys.executable, __file__, "--mb", str(args.mb), "--child"]
    print(f"{args.mb} MB written one byte per 4 KiB page, MB/s per fresh process:")
    for pages in ("huge", "4k"):
        for pause in (0.0, args.pause_s):
            rates = []
            for _ in range(args.repeats):
                time.sleep(pause)
                out = subprocess.run(child + [pages], check=True, capture_output=True, text=True)
                rates.append(out.stdout.strip())
            print(f"- {pages} pages, {pause:g} s between runs: {', '.join(rates)}")


if __name__ == "__main__":
    main()
