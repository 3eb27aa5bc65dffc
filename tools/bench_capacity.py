#!/usr/bin/env python3
"""How large a recording the forward pass holds at a given hop: `poyo bench` over a grid of unit
counts, firing rates and thread counts, printed as a table (and JSON), with the capacity line.

    .venv/bin/python tools/bench_capacity.py --model Tests/POYOTests/Fixtures/poyo_1p3m.model.safetensors \\
        [--units 50,100,200,500,1000] [--rates 5,20,40] [--threads 1,2] [--hop 0.02] [--ahead] [--json out.json]

Each cell is one `poyo bench --json` run (fresh Poisson windows each iteration, start/end tokens of
every unit included). A cell "holds" the hop when its forward p99 is below `--share` (default 0.75)
of the hop: the rest of the budget is the daemon's own path (ingest, window, publish, delivery;
~0.3-1 ms measured with tools/bench_serve.py) and head-room for the machine's noise. The capacity is
the largest token count per window below which every cell holds, per thread count. A model whose unit vocabulary is
smaller than the largest unit count is widened with random unit embeddings (same shape otherwise). Run it on an otherwise idle
machine; the numbers are this CPU's (printed first).

`--ahead` times the forward pass as the daemon runs it with `encode_ahead` (its default): each
window's spikes older than its last hop are attended first, untimed (`poyo bench --ahead HOP`), and
the time is what is left at the tick. Without it, the whole window is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from poyo_rt import model_file as mf

ROOT = Path(__file__).resolve().parent.parent


def cpu_name() -> str:
    """The CPU model and its widest vector extension, from /proc/cpuinfo."""
    name, flags = "unknown CPU", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name == "unknown CPU":
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    vectors = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "no AVX2"
    return f"{name}, {os.cpu_count()} CPUs, {vectors} (poyo-rt's kernels use AVX2 + FMA)"


def widened(model: str, units: int, directory: str) -> str:
    """The model with at least `units` unit words: extra rows `bench/unit_N` drawn like the
    trained rows (normal, their std), so a sweep past the vocabulary runs the same shape with a
    K/V table of the real size. The original file is returned when it is large enough."""
    description, tensors = mf.read_model_file(model)
    vocabulary = description["unit_vocab"]
    missing = units - (len(vocabulary) - ("NA" in vocabulary))
    if missing <= 0:
        return model
    table = tensors["unit_emb.weight"]
    extra = np.random.default_rng(0).normal(0, table[1:].std(), (missing, table.shape[1])).astype(np.float32)
    tensors["unit_emb.weight"] = np.concatenate([table, extra])
    for i in range(missing):
        vocabulary[f"bench/unit_{i}"] = table.shape[0] + i
    path = str(Path(directory) / f"widened_{units}.safetensors")
    mf.write_model_file(path, description, tensors)
    return path


def bench(poyo: str, model: str, units: int, rate: float, threads: int, iterations: int, ahead: float | None = None) -> dict:
    """One `poyo bench --json` run: p50/p90/p99 (ms), tokens per window, GFLOP/s; with `ahead`
    (seconds), the encoder prepared up to that long before each window's end, untimed."""
    command = [poyo, "bench", "--model", model, "--units", str(units), "--rate", str(rate),
               "--threads", str(threads), "--iterations", str(iterations), "--warmup", "10", "--json"]
    if ahead is not None:
        command += ["--ahead", str(ahead)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench_capacity: {' '.join(command)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="poyo-rt model file")
    parser.add_argument("--poyo-bin", default=os.environ.get("POYO_BIN", str(ROOT / ".build/release/poyo")))
    parser.add_argument("--units", default="50,100,200,500,1000", help="unit counts (comma-separated)")
    parser.add_argument("--rates", default="5,20,40", help="firing rates in Hz (comma-separated)")
    parser.add_argument("--threads", default="1,2", help="model thread counts (comma-separated)")
    parser.add_argument("--iterations", type=int, default=100, help="timed windows per cell")
    parser.add_argument("--hop", type=float, default=0.02, help="seconds between ticks (0.02: 50 Hz)")
    parser.add_argument("--share", type=float, default=0.75, help="share of the hop the forward p99 may take")
    parser.add_argument("--ahead", action="store_true",
                        help="time what is left at the tick with the encoder prepared one hop ahead (the daemon's encode_ahead)")
    parser.add_argument("--json", help="also write every cell as JSON here")
    args = parser.parse_args()
    units = [int(u) for u in args.units.split(",")]
    rates = [float(r) for r in args.rates.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    limit_ms = args.hop * 1e3 * args.share

    scratch = tempfile.TemporaryDirectory()
    model = widened(args.model, max(units), scratch.name)
    print(cpu_name())
    print(f"model {args.model}; a cell holds a {args.hop * 1e3:.0f} ms hop when forward p99 <= {limit_ms:.1f} ms"
          + ("; forward at the tick, encoder prepared one hop ahead (the preparation itself is not timed: the daemon's own "
             "capacity, which counts it, is `poyo-rt profile --sweep`)" if args.ahead else "; whole windows"))
    cells = []
    print(f"{'units':>6} {'Hz':>5} {'tokens':>7}  " + "  ".join(f"{f'{t} thread p50/p99 ms':>22}" for t in threads))
    for u in units:
        for r in rates:
            row = []
            for t in threads:
                result = bench(args.poyo_bin, model, u, r, t, args.iterations, args.hop if args.ahead else None)
                result["holds"] = result["p99_ms"] <= limit_ms
                cells.append(result)
                row.append(result)
            mark = lambda c: "" if c["holds"] else " x"
            print(f"{u:>6} {r:>5.0f} {row[0]['tokens']:>7.0f}  "
                  + "  ".join(f"{c['p50_ms']:>9.2f} / {c['p99_ms']:>6.2f}{mark(c):>2}  " for c in row))
    print("x: does not hold the hop")
    for t in threads:
        # Conservative: the largest window such that every smaller one held too (a noisy cell
        # below it lowers the capacity rather than being skipped over).
        best = None
        for cell in sorted((c for c in cells if c["threads"] == t), key=lambda c: c["tokens"]):
            if not cell["holds"]:
                break
            best = cell
        if best:
            print(f"capacity{' at the tick' if args.ahead else ''}, {t} thread(s): windows up to ~{best['tokens']:.0f} tokens hold the hop "
                  f"(e.g. {best['units']} units at {best['rate_hz']:.0f} Hz: p99 {best['p99_ms']:.2f} ms)"
                  + (" - not counting the preparation between ticks; see poyo-rt profile --sweep" if args.ahead else ""))
        else:
            print(f"capacity, {t} thread(s): no cell holds the hop")
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_name(), "hop": args.hop, "share": args.share, "ahead": args.ahead,
                                               "cells": cells}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
