#!/usr/bin/env bash
# Fuzzes palpa's parsers (issue [6/7] item 2): seeds each target from the real files, then
# runs it for SECONDS (default 600) with libFuzzer, two targets at a time on this 2-core
# machine. Crashes land in tests/fuzz/artifacts/<target>/; each becomes a regression test in
# tests/ before it is fixed. Needs the nightly toolchain and `cargo install cargo-fuzz`.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     targets: edf csv sidecar config
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(edf csv sidecar config)
corpus=tests/fuzz/corpus

cargo build --release --quiet
python3 tests/fuzz/seed.py "$corpus" target/release/palpa
for t in "${targets[@]}"; do cargo +nightly fuzz build --fuzz-dir tests/fuzz "$t"; done

# -max_len above the largest seed; -rss_limit_mb is the "never allocate what a lying header
# asks for" check: a 128 kB input may not make palpa take 2 GB.
fuzz() {
  cargo +nightly fuzz run --fuzz-dir tests/fuzz "$1" "$corpus/$1" -- \
    -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 2>&1 | tee "tests/fuzz/artifacts/$1.log" | grep -E "^(stat::|==|SUMMARY|Done)" || true
}
mkdir -p tests/fuzz/artifacts
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  fuzz "${targets[i]}" &
  if ((i + 1 < ${#targets[@]})); then fuzz "${targets[i + 1]}" & fi
  wait
done
