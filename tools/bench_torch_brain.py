#!/usr/bin/env python3
"""Time torch_brain's own eager forward pass on a poyo-rt model file: the baseline for `poyo bench`.

    /tmp/tb/bin/python tools/bench_torch_brain.py --model MODEL.safetensors --units 200 --rate 20 --threads 1 [--json]

The model file is turned back into a torch_brain 0.1.x POYO / POYOPlus (the reverse of
poyo_rt/export.py (`poyo-rt export`), loaded with strict=True), and every iteration feeds it a fresh window
built the way `poyo bench` builds its windows: the first U units of the unit vocabulary (row
order) firing as Poisson processes at HZ, start/end tokens for every unit, the lowest session row,
Q queries evenly spaced with the last at the window end, the first readout's id as decoder index
for POYOPlus. Only the forward call is timed (torch.no_grad, eval mode, batch of 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poyo_rt import model_file as mf  # noqa: E402
from poyo_rt import window as pw  # noqa: E402


def build_torch_brain_model(path):
    """Model file -> (torch_brain 0.1.x model in eval mode with exactly the file's weights, description)."""
    from poyo_rt.calibrate.torch_model import build_model
    description, tensors = mf.read_model_file(path)
    return build_model(description, tensors).eval(), description


def window_builder(description, units, rate, queries=1):
    """-> make(rng): one unbatched window as `poyo bench` builds it (see the module docstring).

    Raises ValueError when `units` is not between 1 and the model's unit count.
    """
    hp = description["hyperparameters"]
    seq = hp["sequence_length"]
    unit_rows = sorted(v for w, v in description["unit_vocab"].items() if w != "NA")
    if not 0 < units <= len(unit_rows):
        raise ValueError(f"--units must be between 1 and the model's {len(unit_rows)} units")
    unit_rows = unit_rows[:units]
    session_row = min(v for w, v in description["session_vocab"].items() if w != "NA")
    output_timestamps = [seq * (k + 1) / queries for k in range(queries)]
    decoder = [description["readouts"][0]["id"]] * queries if description["kind"] == "POYOPlus" else None

    def make(rng):
        unit, t = pw.poisson_spikes(rng, units, rate, seq)
        return pw.make_window(unit_rows, unit, t, sequence_length=seq, latent_step=hp["latent_step"],
                              num_latents_per_step=hp["num_latents_per_step"], session_row=session_row,
                              output_timestamps=output_timestamps, output_decoder_index=decoder)
    return make


def percentile(sorted_ms, p):
    """Same rule as `poyo bench`: element floor(p/100 * n) of the sorted times."""
    return sorted_ms[min(len(sorted_ms) - 1, int(p / 100 * len(sorted_ms)))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="poyo-rt model file")
    p.add_argument("--units", type=int, default=200, help="units in the window (from the model's unit vocabulary)")
    p.add_argument("--rate", type=float, default=20.0, help="firing rate of every unit, Hz")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--iterations", type=int, default=200, help="timed iterations")
    p.add_argument("--warmup", type=int, default=20, help="untimed iterations first")
    p.add_argument("--queries", type=int, default=1, help="output queries per window")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)

    import torch
    torch.set_num_threads(args.threads)
    model, description = build_torch_brain_model(args.model)
    try:
        make_window = window_builder(description, args.units, args.rate, args.queries)
    except ValueError as e:
        p.error(str(e))

    rng = np.random.default_rng(args.seed)
    times_ms, tokens = [], []
    for iteration in range(args.warmup + args.iterations):
        window = make_window(rng)
        batch = {k: torch.from_numpy(v)[None] for k, v in window.items()}
        with torch.no_grad():
            start = time.perf_counter_ns()
            model(**batch)
            elapsed = time.perf_counter_ns() - start
        if iteration >= args.warmup:
            times_ms.append(elapsed / 1e6)
            tokens.append(len(window["input_unit_index"]))
    times_ms.sort()
    result = {
        "p50_ms": percentile(times_ms, 50), "p90_ms": percentile(times_ms, 90), "p99_ms": percentile(times_ms, 99),
        "min_ms": times_ms[0], "max_ms": times_ms[-1], "tokens": float(np.mean(tokens)), "units": args.units,
        "rate_hz": args.rate, "threads": args.threads, "iterations": args.iterations, "queries": args.queries,
        "torch": torch.__version__, "implementation": "torch_brain eager",
    }
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"{args.iterations} iterations, {result['tokens']:.0f} tokens/window ({args.units} units at "
              f"{args.rate:g} Hz), {args.threads} thread(s), torch {torch.__version__}")
        print(f"forward p50 {result['p50_ms']:.3f} ms  p90 {result['p90_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms  "
              f"(min {result['min_ms']:.3f}, max {result['max_ms']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
