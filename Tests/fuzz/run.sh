#!/usr/bin/env bash
# Fuzzes SpikeWire's decoders with libFuzzer for a fixed budget (default 60 s), seeded with
# protocol/vectors. Exit status 0: nothing found; non-zero: a crash, with the input saved in
# $FUZZ_WORK (default .build-fuzz/) as crash-*. Replay one: .build-fuzz/fuzz-spikewire FILE
#
#   Tests/fuzz/run.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-60}"
work="${FUZZ_WORK:-$root/.build-fuzz}"
mkdir -p "$work/corpus"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name SpikeWireFuzz \
    "$root"/Sources/SpikeWire/*.swift "$root/Tests/fuzz/FuzzSpikeWire.swift" \
    -o "$work/fuzz-spikewire" 2> >(grep -v "Cannot export local symbol" >&2)
cd "$work"
# -max_len keeps inputs small enough to be mutated quickly; the largest vector is only a seed.
exec ./fuzz-spikewire -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -print_final_stats=1 \
    corpus "$root/protocol/vectors"
